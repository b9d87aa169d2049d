// moe-fuzz finding: the moe.layer verifier compares gate_up's dim 1 with
// 2 * down's dim 2 without an overflow check (LayerOp::verify,
// MoeOps.cpp:352): UBSan "signed integer overflow: 2 * 4611686018427387904"
// while verifying the parsed input (the release tools reject the layer, as
// the wrapped value happens to differ from 12 too):
//   build/bin/moe-opt <this file>
func.func @f(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>,
             %gu: tensor<8x12x16xf32>, %d: tensor<8x16x4611686018427387904xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>,
         tensor<8x16x4611686018427387904xf32>) -> tensor<4x16xf32>
  return
}
