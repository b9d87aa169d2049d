// The grouped expert GEMMs of include/moe/Runtime/cuda/Experts.cuh and
// ExpertsSm90.cuh on their own, DeepSeek-V3 shapes (E = 256, H = 7168,
// I = 2048, bf16), on three paths: 0 wgmma with 128 x 256 tiles, 1 wgmma
// with 256 x 128 tiles, 2 mma.sync. Each is checked
// against a plain f32 GPU reference on a few hundred rows (uniform and
// skewed expert loads, empty experts; rows in order, and gathered: GEMM
// row r reading row src[r] of T source rows, as the layer's gate/up reads
// the permute's input), then timed at T*K rows for T = 64, 4096, 16384
// and 65536. The shared expert (one expert over all rows) is checked and
// timed at 1, 64 and 300 rows on the wgmma path, unsplit and split-K (the
// split counts of the compiler's split-K table at those rows).
// The launches are the ones the compiler emits (launchGemmWgmma with the
// tiling, stages and split count of #moegpu.gemm, launchGemmMma); the
// wgmma paths use four stages, as moegpu-configure picks on sm_90a.
//   nvcc -std=c++17 -O3 -Iinclude -gencode arch=compute_90a,code=sm_90a
//       bench/experts/gemm_test.cu -o gemm_test
//   ./gemm_test                  all checks and timings
//   ./gemm_test check [PATH]     the checks only (of PATH; 3: the shared
//                                expert, unsplit and split-K)
//   ./gemm_test time PATH T...   the checks, then PATH at each T
//   ./gemm_test profile T PATH   one pass of PATH at T (for ncu)
//   ./gemm_test devices          the shared expert on every visible GPU,
//                                each giving device 0's bits
// MOE_GEMM_BALANCED=1 gives every expert exactly T*K/E rows;
// MOE_GEMM_SPREAD=s draws skewed expert loads (see offsetsFor);
// MOE_GEMM_GATHER=1 times gate/up with gathered rows;
// MOE_GEMM_STORE=registers has the wgmma paths store every output from
// registers (storeTma = false: the epilogue before the shared-memory and
// TMA store path);
// MOE_GEMM_CHUNK=n builds the tile maps with chunks of n row tiles (1 to
// 15; default limits::GemmTileChunk, what the compiler emits).
#include "moe/Runtime/cuda/Experts.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace moe;
using namespace moe::cuda;
using bf16 = __nv_bfloat16;

constexpr int E = 256, H = 7168, I = 2048;
using G1 = GemmSpec<bf16, bf16, E, I, H, true>;
using G2 = GemmSpec<bf16, bf16, E, H, I, false>;
// One expert over all rows (the shared expert), split-K at small T.
using S1 = GemmSpec<bf16, bf16, 1, I, H, true>;
using S2 = GemmSpec<bf16, bf16, 1, H, I, false>;
// The stages of both wgmma tilings (what moegpu-configure picks on sm_90a).
constexpr int kStages = 4;
constexpr int TileMapThreads = limits::GemmTileMapThreads;

// The bench's switches (read once).
static bool envIs(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}
// storeTma of the wgmma launches: false with MOE_GEMM_STORE=registers.
static bool tmaStores() {
  static const bool on = !envIs("MOE_GEMM_STORE", "registers");
  return on;
}
// Row tiles per chunk of the tile maps: MOE_GEMM_CHUNK, else the
// compiler's; 0 for a value out of range.
static int tileChunk() {
  static const int chunk = [] {
    const char *v = std::getenv("MOE_GEMM_CHUNK");
    if (!v)
      return limits::GemmTileChunk;
    const int n = std::atoi(v);
    return n >= 1 && n <= limits::GemmMaxTileChunk ? n : 0;
  }();
  return chunk;
}

// The split-K count of a single-expert wgmma GEMM over `rows` rows with
// kTiles 64-element reduction steps and columnTiles column tiles of
// 128-row tiles: the largest power of two s <= SplitMaxSplits that divides
// kTiles with ceil(rows / 128) * columnTiles * s <= SplitTargetBlocks. It
// mirrors the split_k table moegpu-configure gives such a GEMM, for the
// shared expert's check here (the runtime no longer computes it).
static int splitsFor(int64_t rows, int kTiles, int columnTiles) {
  const int64_t blocks = divUp(rows, limits::GemmRowTile) * columnTiles;
  int s = 1;
  while (2 * s <= limits::SplitMaxSplits && kTiles % (2 * s) == 0 &&
         blocks * 2 * s <= limits::SplitTargetBlocks)
    s *= 2;
  return s;
}
// ... of the shared expert's GEMMs on path 0 (128 x 256 tiles).
template <class G> static int sharedSplits(int64_t rows) {
  using C = Sm90Tiling<G, 128, kStages>;
  return splitsFor(rows, G::K / C::BK, C::ColumnTiles);
}

static __global__ __launch_bounds__(TileMapThreads) void tilesKernel(
    const int32_t *off, int64_t rows, RowTile *t, int rowTile, int chunk) {
  rowTilesBody<E>(off, rows, t, rowTile, chunk);
}
static __global__
__launch_bounds__(TileMapThreads) void sharedTiles(int64_t rows, RowTile *t,
                                                   int chunk) {
  rowTilesBody<1>(nullptr, rows, t, limits::GemmRowTile, chunk);
}
// The portable kernel of a spec (what the launchers take).
template <class G>
static __global__
__launch_bounds__(256) void portable(const bf16 *a, const bf16 *w,
                                     const RowTile *t, bf16 *o,
                                     const int32_t *src) {
  groupedGemmBody<G>(a, w, t, o, src);
}
// The paths: the wgmma kernel (sm_90a) with 128 x 256 tiles (what the
// compiler chooses on sm_90a) and with 256 x 128 tiles (for the
// comparison), and the portable mma.sync kernel.
constexpr int Paths = 3;
static const char *const names[Paths] = {"wgmma128x256", "wgmma256x128",
                                         "mma.sync"};
// The row tile of path's tile map.
static int rowTileOf(int path) { return path == 1 ? 256 : limits::GemmRowTile; }
// GEMM G of path over `rows` rows (its tile map built with rowTileOf(path)
// rows per tile), unsplit.
template <class G>
static cudaError_t launchPath(int path, int64_t rows, const bf16 *a,
                              int64_t aRows, const int32_t *rowSource,
                              const bf16 *w, const RowTile *tiles, bf16 *out) {
  if (path == 0)
    return launchGemmWgmma<G, 128, kStages>(rows, a, aRows, rowSource, w, tiles,
                                            out, nullptr, 1, tmaStores(), 0);
  if (path == 1)
    return launchGemmWgmma<G, 256, kStages>(rows, a, aRows, rowSource, w, tiles,
                                            out, nullptr, 1, tmaStores(), 0);
  return launchGemmMma<G>(portable<G>, rows, a, aRows, rowSource, w, tiles, out,
                          0);
}
// The shared expert over `rows` rows on path 0: gate/up x -> h, down
// h -> y, with splits1 and splits2 K splits (more than 1: partial sums in
// `partial`).
static cudaError_t sharedExpert(int64_t rows, const bf16 *x, const bf16 *wgu,
                                const bf16 *wd, RowTile *tiles, bf16 *h,
                                bf16 *y, float *partial, int splits1,
                                int splits2) {
  sharedTiles<<<1, TileMapThreads>>>(rows, tiles, tileChunk());
  cudaError_t err = launchGemmWgmma<S1, 128, kStages>(
      rows, x, rows, nullptr, wgu, tiles, h, partial, splits1, tmaStores(), 0);
  if (err == cudaSuccess)
    err = launchGemmWgmma<S2, 128, kStages>(
        rows, h, rows, nullptr, wd, tiles, y, partial, splits2, tmaStores(), 0);
  return err;
}
// Gathered rows: row r reads source row src[r] of T = rows / 8 (rounded
// up), a fixed scattered draw with repeats, like tokens sorted by expert.
static __global__ void fillSources(int32_t *src, int64_t rows) {
  const int64_t T = (rows + 7) / 8;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       r < rows; r += static_cast<int64_t>(gridDim.x) * blockDim.x)
    src[r] = static_cast<int32_t>((static_cast<uint64_t>(r) * 2654435761u) % T);
}
// Reference: one thread per output, f32 sums, h rounded to bf16.
static __device__ int expertOf(const int32_t *off, int64_t row) {
  int e = 0;
  while (e < E && off[e + 1] <= row)
    ++e;
  return e;
}
static __global__ void refGemm1(const bf16 *x, const int32_t *src,
                                const bf16 *w, const int32_t *off, int64_t rows,
                                bf16 *h) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * I)
    return;
  int64_t r = i / I;
  int n = i % I;
  const int e = expertOf(off, r);
  const bf16 *wg = w + (static_cast<int64_t>(e) * 2 * I + n) * H,
             *wu = wg + static_cast<int64_t>(I) * H;
  const bf16 *xr = x + (src ? src[r] : r) * static_cast<int64_t>(H);
  float g = 0, u = 0;
  for (int k = 0; k < H; ++k) {
    float xv = __bfloat162float(xr[k]);
    g += xv * __bfloat162float(wg[k]);
    u += xv * __bfloat162float(wu[k]);
  }
  h[i] = __float2bfloat16_rn(g / (1.0f + expf(-g)) * u);
}
static __global__ void refGemm2(const bf16 *h, const bf16 *w,
                                const int32_t *off, int64_t rows, float *y) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * H)
    return;
  int64_t r = i / H;
  int n = i % H;
  const int e = expertOf(off, r);
  const bf16 *wd = w + (static_cast<int64_t>(e) * H + n) * I;
  float acc = 0;
  for (int k = 0; k < I; ++k)
    acc += __bfloat162float(h[r * I + k]) * __bfloat162float(wd[k]);
  y[i] = acc;
}
static __global__ void fillRandom(bf16 *p, int64_t n, uint32_t seed,
                                  float scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint32_t s = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    s ^= s >> 13;
    s *= 0x5bd1e995u;
    s ^= s >> 15;
    p[i] = __float2bfloat16_rn(
        (static_cast<float>(s & 0xffffff) / 16777216.0f - 0.5f) * scale);
  }
}

// The value of bf16 bits read back to the host.
static float bf16Value(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

// MOE_GEMM_BALANCED=1: uniform loads are exactly rows / E per expert.
// MOE_GEMM_SPREAD=s: expert e is drawn with a probability proportional to
// exp(s * z_e), z_e a fixed standard normal draw (s = 0.5 gives loads like
// the random router of bench/layer at T = 4096: 0 to ~350 rows, ~50
// experts over 192).
static std::vector<int32_t> offsetsFor(int64_t rows, bool skew) {
  std::vector<int32_t> count(E, 0);
  if (!skew && std::getenv("MOE_GEMM_BALANCED")) {
    std::vector<int32_t> off(E + 1, 0);
    for (int e = 0; e < E; ++e)
      off[e + 1] = static_cast<int32_t>(rows * (e + 1) / E);
    return off;
  }
  std::vector<double> cdf;
  if (const char *spread = std::getenv("MOE_GEMM_SPREAD"); spread && !skew) {
    std::srand(12345);
    double sum = 0;
    for (int e = 0; e < E; ++e) {
      double u1 = (std::rand() + 1.0) / (RAND_MAX + 2.0),
             u2 = (std::rand() + 1.0) / (RAND_MAX + 2.0);
      double z = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307 * u2);
      cdf.push_back(sum += std::exp(std::atof(spread) * z));
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    int e;
    if (!cdf.empty())
      e = static_cast<int>(
          std::lower_bound(cdf.begin(), cdf.end(),
                           cdf.back() * std::rand() / (RAND_MAX + 1.0)) -
          cdf.begin());
    else
      e = skew ? (std::rand() % 3 == 0 ? std::rand() % 8 : 8 + std::rand() % 40)
               : std::rand() % E;
    ++count[e];
  }
  if (std::getenv("MOE_GEMM_SPREAD") && !skew) {
    int over192 = 0, most = 0;
    for (int c : count) {
      over192 += c > 192;
      most = std::max(most, c);
    }
    std::printf("loads: at most %d rows, %d experts over 192\n", most, over192);
  }
  std::vector<int32_t> off(E + 1, 0);
  for (int e = 0; e < E; ++e)
    off[e + 1] = off[e] + count[e];
  return off;
}

// `devices`: the shared expert (one expert, 300 rows, unsplit and split-K
// as the compiler's table splits it: 2 | 1) on every visible GPU in turn,
// from the same inputs: each run must succeed (a kernel's set-up, such as
// its shared-memory size, is per device) and give device 0's bits.
static int checkDevices() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("devices: no CUDA device\n");
    return 1;
  }
  constexpr int64_t rows = 300;
  std::vector<std::vector<uint16_t>> first(2);
  int failures = 0;
  for (int d = 0; d < count; ++d) {
    cudaSetDevice(d);
    bf16 *x, *wgu, *wd, *h, *y;
    RowTile *tiles;
    float *partial;
    cudaMalloc(&x, rows * H * 2);
    cudaMalloc(&wgu, 2 * I * H * 2);
    cudaMalloc(&wd, H * I * 2);
    cudaMalloc(&h, rows * I * 2);
    cudaMalloc(&y, rows * H * 2);
    cudaMalloc(&tiles, maxRowTiles<S1>(rows) * sizeof(RowTile));
    cudaMalloc(&partial, 64 << 20);
    fillRandom<<<1024, 256>>>(x, rows * H, 1, 2.0f);
    fillRandom<<<1024, 256>>>(wgu, 2 * I * H, 2, 0.05f);
    fillRandom<<<1024, 256>>>(wd, H * I, 3, 0.05f);
    for (int split = 0; split < 2; ++split) {
      cudaError_t err =
          sharedExpert(rows, x, wgu, wd, tiles, h, y, split ? partial : nullptr,
                       split ? sharedSplits<S1>(rows) : 1,
                       split ? sharedSplits<S2>(rows) : 1);
      if (err == cudaSuccess)
        err = cudaDeviceSynchronize();
      std::vector<uint16_t> got(rows * H);
      cudaMemcpy(got.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
      if (d == 0)
        first[split] = got;
      const bool ok = err == cudaSuccess && got == first[split];
      cudaDeviceProp prop;
      cudaGetDeviceProperties(&prop, d);
      std::printf("devices: GPU %d (%s) shared expert %s: %s\n", d, prop.name,
                  split ? "split-K" : "unsplit",
                  err != cudaSuccess ? cudaGetErrorString(err)
                  : ok               ? "ok, device 0's bits"
                                     : "FAILED, bits differ from device 0");
      failures += !ok;
    }
    cudaFree(x);
    cudaFree(wgu);
    cudaFree(wd);
    cudaFree(h);
    cudaFree(y);
    cudaFree(tiles);
    cudaFree(partial);
  }
  std::printf("gemm test: %d failures\n", failures);
  return failures ? 1 : 0;
}

int main(int argc, char **argv) {
  if (tileChunk() == 0) {
    std::printf("MOE_GEMM_CHUNK: 1 to %d row tiles\n",
                limits::GemmMaxTileChunk);
    return 2;
  }
  std::printf("tile chunks of %d row tiles; wgmma bf16 outputs %s\n",
              tileChunk(),
              tmaStores() ? "through TMA stores" : "from registers");
  if (argc > 1 && std::strcmp(argv[1], "devices") == 0)
    return checkDevices();
  const bool checkOnly = argc > 1 && std::strcmp(argv[1], "check") == 0;
  const int64_t maxRows = 65536 * 8;
  bf16 *x, *wgu, *wd, *h, *y, *hRef;
  float *yRef;
  int32_t *off, *src;
  RowTile *tiles;
  cudaMalloc(&x, maxRows * H * 2);
  cudaMalloc(&wgu, static_cast<int64_t>(E) * 2 * I * H * 2);
  cudaMalloc(&wd, static_cast<int64_t>(E) * H * I * 2);
  cudaMalloc(&h, maxRows * I * 2);
  cudaMalloc(&y, maxRows * H * 2);
  cudaMalloc(&off, (E + 1) * 4);
  cudaMalloc(&src, maxRows * 4);
  cudaMalloc(&tiles, maxRowTiles<G1>(maxRows) * sizeof(RowTile));
  fillRandom<<<4096, 256>>>(x, maxRows * H, 1, 2.0f);
  fillRandom<<<4096, 256>>>(wgu, static_cast<int64_t>(E) * 2 * I * H, 2, 0.05f);
  fillRandom<<<4096, 256>>>(wd, static_cast<int64_t>(E) * H * I, 3, 0.05f);
  // gate/up then down over `rows` rows on path `path`; `gather`: gate/up
  // reads them through src (filled by fillSources beforehand) from
  // (rows + 7) / 8 rows of x.
  auto gemms = [&](int64_t rows, int path, cudaEvent_t mid, bool gather) {
    tilesKernel<<<1, TileMapThreads>>>(off, rows, tiles, rowTileOf(path),
                                       tileChunk());
    const int32_t *rowSource = gather ? src : nullptr;
    const int64_t aRows = gather ? (rows + 7) / 8 : rows;
    cudaError_t e1 =
        launchPath<G1>(path, rows, x, aRows, rowSource, wgu, tiles, h);
    if (mid)
      cudaEventRecord(mid);
    cudaError_t e2 = launchPath<G2>(path, rows, h, rows, nullptr, wd, tiles, y);
    if (e1 != cudaSuccess || e2 != cudaSuccess)
      std::printf("launch failed: %s\n",
                  cudaGetErrorString(e1 != cudaSuccess ? e1 : e2));
  };
  const char *gatherEnv = std::getenv("MOE_GEMM_GATHER");
  const bool gatherTimed = gatherEnv && std::strcmp(gatherEnv, "1") == 0;
  if (argc > 3 && std::strcmp(argv[1], "profile") == 0) {
    // One pass of path argv[3] over argv[2] * 8 uniform rows (for ncu).
    const int64_t rows = std::atoll(argv[2]) * 8;
    auto hOff = offsetsFor(rows, false);
    cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
    fillSources<<<256, 256>>>(src, rows);
    gemms(rows, std::atoi(argv[3]), nullptr, gatherTimed);
    return cudaDeviceSynchronize() == cudaSuccess ? 0 : 1;
  }
  int failures = 0;
  // Correctness on a few hundred rows.
  // `check PATH` checks that path only.
  const int only = checkOnly && argc > 2 ? std::atoi(argv[2]) : -1;
  for (int path = 0; path < Paths; ++path)
    for (int variant = 0; variant < 4; ++variant) {
      const bool skew = variant % 2, gather = variant / 2;
      // The 256 x 128 tiling does not gather (launchGemmWgmma refuses it:
      // cudaErrorNotSupported).
      if ((only >= 0 && path != only) || (path == 1 && gather))
        continue;
      const int64_t rows = skew ? 1000 : 777;
      auto hOff = offsetsFor(rows, skew);
      cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
      cudaMalloc(&hRef, rows * I * 2);
      cudaMalloc(&yRef, rows * H * 4);
      fillSources<<<256, 256>>>(src, rows);
      gemms(rows, path, nullptr, gather);
      refGemm1<<<(rows * I + 255) / 256, 256>>>(x, gather ? src : nullptr, wgu,
                                                off, rows, hRef);
      refGemm2<<<(rows * H + 255) / 256, 256>>>(hRef, wd, off, rows, yRef);
      cudaError_t err = cudaDeviceSynchronize();
      std::vector<uint16_t> gh(rows * I), rh(rows * I), gy(rows * H);
      std::vector<float> ry(rows * H);
      cudaMemcpy(gh.data(), h, rows * I * 2, cudaMemcpyDeviceToHost);
      cudaMemcpy(rh.data(), hRef, rows * I * 2, cudaMemcpyDeviceToHost);
      cudaMemcpy(gy.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
      cudaMemcpy(ry.data(), yRef, rows * H * 4, cudaMemcpyDeviceToHost);
      double hErr = 0, hMax = 0, yErr = 0, yMax = 0;
      for (size_t i = 0; i < gh.size(); ++i) {
        hErr = std::max(hErr,
                        (double)std::fabs(bf16Value(gh[i]) - bf16Value(rh[i])));
        hMax = std::max(hMax, (double)std::fabs(bf16Value(rh[i])));
      }
      for (size_t i = 0; i < gy.size(); ++i) {
        yErr = std::max(yErr, (double)std::fabs(bf16Value(gy[i]) - ry[i]));
        yMax = std::max(yMax, (double)std::fabs(ry[i]));
      }
      bool ok =
          err == cudaSuccess && hErr <= 1e-2 * hMax && yErr <= 1e-2 * yMax;
      std::printf("check %s %s %s rows=%lld: %s; h max err %.3g of %.3g, y "
                  "max err %.3g of %.3g\n",
                  names[path], skew ? "skewed " : "uniform",
                  gather ? "gathered" : "in order", (long long)rows,
                  ok ? "ok" : "FAILED", hErr, hMax, yErr, yMax);
      failures += !ok;
      // Deterministic: a second run is bitwise the first.
      gemms(rows, path, nullptr, gather);
      std::vector<uint16_t> gy2(rows * H);
      cudaMemcpy(gy2.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
      if (gy2 != gy) {
        std::printf("FAILED: two runs differ\n");
        ++failures;
      }
      cudaFree(hRef);
      cudaFree(yRef);
    }
  // The shared expert (one expert over all rows) on the wgmma path,
  // unsplit and split-K with the split counts of the compiler's table
  // (splitsFor: 8 | 4 at 1 and 64 rows, 2 | 1 at 300): both against the
  // reference, each run twice bitwise, and their times.
  if (only < 0 || only == 3) {
    float *partial;
    // Partial sums: at most 600 rows x 2I (gate/up at 300 rows, 2 splits).
    cudaMalloc(&partial, 64 << 20);
    for (int64_t rows : {1, 64, 300}) {
      std::vector<int32_t> hOff(E + 1, static_cast<int32_t>(rows));
      hOff[0] = 0;
      cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
      cudaMalloc(&hRef, rows * I * 2);
      cudaMalloc(&yRef, rows * H * 4);
      refGemm1<<<(rows * I + 255) / 256, 256>>>(x, nullptr, wgu, off, rows,
                                                hRef);
      refGemm2<<<(rows * H + 255) / 256, 256>>>(hRef, wd, off, rows, yRef);
      for (bool split : {false, true}) {
        const int splits1 = split ? sharedSplits<S1>(rows) : 1,
                  splits2 = split ? sharedSplits<S2>(rows) : 1;
        auto run = [&] {
          return sharedExpert(rows, x, wgu, wd, tiles, h, y,
                              split ? partial : nullptr, splits1, splits2);
        };
        cudaError_t err = run();
        if (err == cudaSuccess)
          err = cudaDeviceSynchronize();
        std::vector<uint16_t> gy(rows * H), gy2(rows * H);
        std::vector<float> ry(rows * H);
        cudaMemcpy(gy.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
        cudaMemcpy(ry.data(), yRef, rows * H * 4, cudaMemcpyDeviceToHost);
        run();
        cudaMemcpy(gy2.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
        double yErr = 0, yMax = 0;
        for (size_t i = 0; i < gy.size(); ++i) {
          yErr = std::max(yErr, (double)std::fabs(bf16Value(gy[i]) - ry[i]));
          yMax = std::max(yMax, (double)std::fabs(ry[i]));
        }
        cudaEvent_t a, b;
        cudaEventCreate(&a);
        cudaEventCreate(&b);
        std::vector<float> ts;
        for (int i = 0; i < 11; ++i) {
          cudaEventRecord(a);
          run();
          cudaEventRecord(b);
          cudaEventSynchronize(b);
          float ms;
          cudaEventElapsedTime(&ms, a, b);
          ts.push_back(ms);
        }
        cudaEventDestroy(a);
        cudaEventDestroy(b);
        std::sort(ts.begin(), ts.end());
        const bool ok = err == cudaSuccess && yErr <= 1e-2 * yMax && gy == gy2;
        std::printf(
            "check shared expert rows=%-5lld splits %d|%d: %s; y max "
            "err %.3g of %.3g%s; %.3f ms\n",
            (long long)rows, splits1, splits2, ok ? "ok" : "FAILED", yErr, yMax,
            gy == gy2 ? ", two runs bitwise equal" : ", RUNS DIFFER", ts[5]);
        failures += !ok;
      }
      cudaFree(hRef);
      cudaFree(yRef);
    }
    cudaFree(partial);
  }
  // Timing.
  if (checkOnly) {
    std::printf("gemm test: %d failures\n", failures);
    return failures ? 1 : 0;
  }
  // `time PATH T...`: only those (repeated T values give repeated runs).
  std::vector<std::pair<int, int64_t>> runs;
  if (argc > 3 && std::strcmp(argv[1], "time") == 0) {
    for (int i = 3; i < argc; ++i)
      runs.push_back({std::atoi(argv[2]), std::atoll(argv[i])});
  } else {
    for (int path = 0; path < Paths; ++path)
      for (int64_t T : {64, 4096, 16384, 65536})
        runs.push_back({path, T});
  }
  for (auto [path, T] : runs) {
    const int64_t rows = T * 8;
    auto hOff = offsetsFor(rows, false);
    cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
    cudaEvent_t a, b, c;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventCreate(&c);
    fillSources<<<256, 256>>>(src, rows);
    gemms(rows, path, b, gatherTimed);
    const int reps = T > 4096 ? 3 : 10;
    std::vector<float> t1s, t2s;
    for (int i = 0; i < reps; ++i) {
      cudaEventRecord(a);
      gemms(rows, path, b, gatherTimed);
      cudaEventRecord(c);
      cudaEventSynchronize(c);
      float m1, m2;
      cudaEventElapsedTime(&m1, a, b);
      cudaEventElapsedTime(&m2, b, c);
      t1s.push_back(m1);
      t2s.push_back(m2);
    }
    std::sort(t1s.begin(), t1s.end());
    std::sort(t2s.begin(), t2s.end());
    const float t1 = t1s[reps / 2], t2 = t2s[reps / 2];
    double f1 = 2.0 * rows * 2 * I * H, f2 = 2.0 * rows * H * I;
    std::printf("%-8s T=%-6lld rows=%-7lld: gemm1 %8.3f ms (%3.0f TFLOP/s), "
                "gemm2 %8.3f ms (%3.0f TFLOP/s), %s\n",
                names[path], (long long)T, (long long)rows, t1, f1 / t1 / 1e9,
                t2, f2 / t2 / 1e9, cudaGetErrorString(cudaGetLastError()));
  }
  std::printf("gemm test: %d failures\n", failures);
  return failures ? 1 : 0;
}
