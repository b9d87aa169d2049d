// moe-fuzz finding: #moegpu.gemm's verifier checks tile[0] * tile[1]
// against the wgmma tile's element count without an overflow check
// (GemmConfigAttr::verify, MoeGPUDialect.cpp:271): UBSan "signed integer
// overflow" while parsing. 128 * (2^57 + 256) wraps to 128 * 256, so the
// release tools accept this tile, which is not a wgmma tile:
//   build/bin/moe-opt <this file>        (prints it back, exit 0)
func.func @f() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 144115188075856128, 64], stages = 4,
                     store = tma>} {
  return
}
