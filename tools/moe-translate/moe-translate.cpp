//===- moe-translate.cpp - moe translation driver -------------------------===//
//
// mlirTranslateMain with the upstream translations and the moe ones:
// --mlir-to-cuda (the .cu), --mlir-to-cuda-header (the .h) and
// --mlir-to-cuda-manifest (the JSON launcher ABI). Input that is not EmitC
// yet is lowered with moe-lower-to-cuda (default options: sm_90a) first.
//
//===----------------------------------------------------------------------===//

#include "moe/InitAll.h"
#include "moe/Pipelines/Pipelines.h"
#include "moe/Target/CUDA/TranslateToCUDA.h"

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

using namespace mlir;

int main(int argc, char **argv) {
  registerAllTranslations();
  moe::registerAllPasses();
  moe::registerToCUDATranslations(moe::lowerToCUDAIfNeeded,
                                  moe::registerAllDialects);
  return failed(mlirTranslateMain(argc, argv,
                                  "moe-translate: moe-mlir translations\n"))
             ? 1
             : 0;
}
