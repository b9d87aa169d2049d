// moe-fuzz finding: convert-moegpu-to-emitc on a function declaration.
// LauncherToEmitC takes every func.func for a launcher and reads
// func.getArgument(i) of one that has no body (no entry block):
// "Assertion `Index < this->size()' failed" at MoeGPUToEmitC.cpp:82;
// SIGSEGV in the release tools:
//   build/bin/moe-opt <this file> --convert-moegpu-to-emitc
func.func private @f(memref<4xf32>)
