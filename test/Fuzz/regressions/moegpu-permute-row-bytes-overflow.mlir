// moe-fuzz finding: the moegpu.permute verifier computes a row's bytes as
// hidden * bit width / 8 without an overflow check (MoeGPUOps.cpp:545):
// UBSan "signed integer overflow: 4611686018427387904 * 32" when
// moegpu-configure builds the kernel op for a moe.permute with a huge
// hidden size; the release tools check the VectorBytes limit against the
// wrapped value (0 bytes) and accept it:
//   build/bin/moe-opt <this file> --moegpu-configure
func.func @f(%x: tensor<?x4611686018427387904xf32>, %ids: tensor<?x2xi32>,
             %w: tensor<?x2xf32>)
    -> (tensor<?x4611686018427387904xf32>, tensor<?x2xi32>, tensor<9xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x4611686018427387904xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x4611686018427387904xf32>, tensor<?x2xi32>, tensor<9xi32>)
  return %rows, %map, %off
      : tensor<?x4611686018427387904xf32>, tensor<?x2xi32>, tensor<9xi32>
}
