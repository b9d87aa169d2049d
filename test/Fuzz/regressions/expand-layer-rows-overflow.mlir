// moe-fuzz finding: moe-expand-layer multiplies a huge static token count by
// k without an overflow check (ExpandLayer.cpp:55, numTokens * k): UBSan
// "signed integer overflow: 4611686018427387904 * 2". The layer verifies;
// in the release tools the product wraps to INT64_MIN, which is
// ShapedType::kDynamic, and the permute's rows come out as `?`:
//   build/bin/moe-opt <this file> --moe-expand-layer
func.func @f(%x: tensor<4611686018427387904x16xf32>, %r: tensor<4x16xf32>,
             %gu: tensor<4x32x16xf32>, %d: tensor<4x16x16xf32>)
    -> tensor<4611686018427387904x16xf32> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2
      : (tensor<4611686018427387904x16xf32>, tensor<4x16xf32>,
         tensor<4x32x16xf32>, tensor<4x16x16xf32>)
        -> tensor<4611686018427387904x16xf32>
  return %y : tensor<4611686018427387904x16xf32>
}
