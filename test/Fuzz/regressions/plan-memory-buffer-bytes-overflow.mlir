// moe-fuzz finding: moegpu-plan-memory multiplies a buffer's static sizes
// without an overflow check (PlanMemory.cpp:304, staticBytes *= d): UBSan
// "signed integer overflow: 4 * 4611686018427387904" in moe-lower-to-cuda
// for a routing over a huge static token count; the release tools plan the
// 2^67-byte weights buffer as "0" bytes of the workspace:
//   build/bin/moe-opt <this file> --moe-lower-to-cuda
func.func @f(%s: tensor<4611686018427387904x128xf32>)
    -> tensor<4611686018427387904x8xi32> {
  %ids, %w = moe.route %s k = 8
      : (tensor<4611686018427387904x128xf32>)
        -> (tensor<4611686018427387904x8xi32>, tensor<4611686018427387904x8xf32>)
  return %ids : tensor<4611686018427387904x8xi32>
}
