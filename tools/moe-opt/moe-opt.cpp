//===- moe-opt.cpp - moe optimizer driver ---------------------------------===//

#include "moe/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::moe::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::moe::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "moe-opt: the moe-mlir optimizer driver\n", registry));
}
