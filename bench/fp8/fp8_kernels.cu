// The FP8 kernels of include/moe/Runtime/cuda/ExpertsFp8Sm90.cuh behind a C
// ABI, for bench/fp8/check.py (ctypes + PyTorch): the activation
// quantisation (plain and gathering) and the block-scaled grouped GEMMs at
// a small test shape and DeepSeek-V3's (E = 256, H = 7168, I = 2048, the
// shared expert as E = 1), each with its tile map.
//   nvcc -std=c++17 -O3 -Iinclude -gencode arch=compute_90a,code=sm_90a
//        -shared -Xcompiler -fPIC bench/fp8/fp8_kernels.cu -o fp8.so -lcuda
#include "moe/Runtime/cuda/ExpertsFp8Sm90.cuh"

using namespace moe;
using namespace moe::cuda;
using bf16 = __nv_bfloat16;

namespace {
template <int E>
__global__ void __launch_bounds__(limits::GemmTileMapThreads)
    tileMapKernel(const int32_t *offsets, int64_t numRows, RowTile *tiles) {
  rowTilesBody<E>(offsets, numRows, tiles, 128, limits::GemmTileChunk);
}

template <int E>
int tileMap(const int32_t *offsets, int64_t numRows, void *tiles,
            cudaStream_t stream) {
  return launchChained(&tileMapKernel<E>, static_cast<int64_t>(1),
                       limits::GemmTileMapThreads, stream, offsets, numRows,
                       static_cast<RowTile *>(tiles));
}

template <class G>
int gemm(int64_t rows, const void *a, const float *as, const void *w,
         const float *ws, const void *tiles, void *out, cudaStream_t stream) {
  return launchGemmFp8<G>(rows, static_cast<const uint8_t *>(a), as,
                          static_cast<const uint8_t *>(w), ws,
                          static_cast<const RowTile *>(tiles),
                          static_cast<typename G::Out *>(out), stream);
}
} // namespace

#define QUANTIZE(W)                                                            \
  extern "C" int moe_fp8_quantize_##W(const void *x, const int32_t *source,    \
                                      int64_t rows, int ue8m0, void *values,   \
                                      float *scales, cudaStream_t stream) {    \
    auto *in = static_cast<const bf16 *>(x);                                   \
    auto *v = static_cast<uint8_t *>(values);                                  \
    return ue8m0 ? launchQuantizeRows<bf16, W, true>(in, source, nullptr, 0,   \
                                                     rows, v, scales, stream)  \
                 : launchQuantizeRows<bf16, W, false>(                         \
                       in, source, nullptr, 0, rows, v, scales, stream);       \
  }
QUANTIZE(256)
QUANTIZE(2048)
QUANTIZE(7168)

extern "C" int moe_fp8_row_tile_bytes() { return sizeof(RowTile); }
extern "C" int moe_fp8_tile_map_8(const int32_t *o, int64_t n, void *t,
                                  cudaStream_t s) {
  return tileMap<8>(o, n, t, s);
}
extern "C" int moe_fp8_tile_map_256(const int32_t *o, int64_t n, void *t,
                                    cudaStream_t s) {
  return tileMap<256>(o, n, t, s);
}
extern "C" int moe_fp8_tile_map_1(const int32_t *o, int64_t n, void *t,
                                  cudaStream_t s) {
  return tileMap<1>(o, n, t, s);
}

#define GEMM(NAME, OUT, E, N, K, DUAL)                                         \
  extern "C" int moe_fp8_gemm_##NAME(                                          \
      int64_t rows, const void *a, const float *as, const void *w,             \
      const float *ws, const void *tiles, void *out, cudaStream_t stream) {    \
    return gemm<Fp8GemmSpec<OUT, E, N, K, DUAL>>(rows, a, as, w, ws, tiles,    \
                                                 out, stream);                 \
  }
// Small: 8 experts, H = 512, I = 256.
GEMM(small_up, bf16, 8, 256, 512, true)
GEMM(small_down, bf16, 8, 512, 256, false)
GEMM(small_down_f32, float, 8, 512, 256, false)
// DeepSeek-V3.
GEMM(v3_up, bf16, 256, 2048, 7168, true)
GEMM(v3_down, bf16, 256, 7168, 2048, false)
GEMM(v3_shared_up, bf16, 1, 2048, 7168, true)
GEMM(v3_shared_down, bf16, 1, 7168, 2048, false)

// The same with 256-wide weight tiles.
#define GEMM_WIDE(NAME, OUT, E, N, K, DUAL)                                    \
  extern "C" int moe_fp8_gemm_##NAME(                                          \
      int64_t rows, const void *a, const float *as, const void *w,             \
      const float *ws, const void *tiles, void *out, cudaStream_t stream) {    \
    return gemm<Fp8GemmSpec<OUT, E, N, K, DUAL, 256>>(rows, a, as, w, ws,      \
                                                      tiles, out, stream);     \
  }
GEMM_WIDE(small_up_wide, bf16, 8, 256, 512, true)
GEMM_WIDE(small_down_wide, bf16, 8, 512, 256, false)
GEMM_WIDE(v3_up_wide, bf16, 256, 2048, 7168, true)
GEMM_WIDE(v3_down_wide, bf16, 256, 7168, 2048, false)
