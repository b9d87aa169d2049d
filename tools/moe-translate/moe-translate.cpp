//===- moe-translate.cpp - moe translation driver -------------------------===//
//
// mlirTranslateMain with the upstream translations (mlir-to-cpp among them).
// The moe translations (CUDA emission) are registered here as they land.
//
//===----------------------------------------------------------------------===//

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::registerAllTranslations();
  return mlir::failed(mlir::mlirTranslateMain(
             argc, argv, "moe-translate: moe-mlir translations\n"))
             ? 1
             : 0;
}
