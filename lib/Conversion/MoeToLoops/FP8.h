//===- FP8.h - e4m3fn encoding and group quantisation as loops --*- C++ -*-===//
//
// The CPU has no f8 conversions, so e4m3fn values are encoded and decoded
// with integer arithmetic on their bits. Shared by moe.quantize and the FP8
// moe.expert_ffn (which quantises h).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLOOPS_FP8_H
#define MOE_LIB_CONVERSION_MOETOLOOPS_FP8_H

#include "LoopEmitter.h"

namespace mlir::moe::loops {

/// f32 -> e4m3fn bits (i8), round to nearest even, not saturating: |x|
/// above 464, inf and NaN become NaN (0x7F) with the input's sign.
Value encodeE4M3FN(LoopEmitter &e, Value x);
/// e4m3fn bits (i8) -> the exact f32 value (0x7F/0xFF: NaN).
Value decodeE4M3FN(LoopEmitter &e, Value bits);
/// DeepSeek-V3's act_quant of one group of `size` values: `at(i)` gives
/// value i as f32, `store(i, bits)` receives its e4m3fn bits (i8). Returns
/// the group's scale max(amax, 1e-4) / 448 (with `ue8m0` rounded up to a
/// power of two).
Value quantizeGroup(LoopEmitter &e, Value size, function_ref<Value(Value)> at,
                    function_ref<void(Value, Value)> store, bool ue8m0);

} // namespace mlir::moe::loops

#endif // MOE_LIB_CONVERSION_MOETOLOOPS_FP8_H
