//===- moe-translate.cpp - moe translation driver -------------------------===//
//
// mlirTranslateMain with the upstream translations and the moe ones:
// --mlir-to-cuda (the .cu) and --mlir-to-cuda-header (the .h).
//
//===----------------------------------------------------------------------===//

#include "moe/InitAll.h"
#include "moe/Target/CUDA/TranslateToCUDA.h"

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::registerAllTranslations();
  mlir::moe::registerAllPasses();
  mlir::moe::registerToCUDATranslations();
  return mlir::failed(mlir::mlirTranslateMain(
             argc, argv, "moe-translate: moe-mlir translations\n"))
             ? 1
             : 0;
}
