// moe-fuzz finding: the moe.permute verifier multiplies the static token
// count by k without an overflow check (mulDims, MoeVerification.cpp:70,
// called from MoeOps.cpp:175): UBSan "signed integer overflow:
// 4611686018427387904 * 2" while verifying the parsed input; the release
// tools accept it:
//   build/bin/moe-opt <this file>
func.func @f(%x: tensor<4611686018427387904x64xf32>,
             %ids: tensor<4611686018427387904x2xi32>,
             %w: tensor<4611686018427387904x2xf32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<4611686018427387904x64xf32>, tensor<4611686018427387904x2xi32>,
         tensor<4611686018427387904x2xf32>)
        -> (tensor<?x64xf32>, tensor<4611686018427387904x2xi32>, tensor<9xi32>)
  return
}
