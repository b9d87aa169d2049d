// moe-fuzz finding: convert-moegpu-to-emitc on a function without a
// num_tokens parameter. LauncherToEmitC emits the num_tokens check with a
// null Value (MoeGPUToEmitC.cpp:157 -> emitVerbatim, EmitCUtils.cpp:47):
// ASan SEGV on address 0; SIGSEGV in the release tools:
//   build/bin/moe-opt <this file> --convert-moegpu-to-emitc
func.func @f() {
  return
}
