// Calls every emitted routing launcher on small random inputs and on bad
// arguments; run under compute-sanitizer by bench/routing/gpu.sh. Exits
// non-zero on any unexpected CUDA result.
#include "routing.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

static int failures = 0;
static void expect(cudaError_t got, cudaError_t want, const char *what) {
  if (got != want) {
    std::printf("FAILED %s: got %s, want %s\n", what, cudaGetErrorString(got),
                cudaGetErrorString(want));
    ++failures;
  }
}

template <typename In>
static void run(const char *name,
                cudaError_t (*fn)(const In *, const float *, int32_t *, float *,
                                  int64_t, cudaStream_t),
                int E, int K, bool bias) {
  for (int64_t T : {0, 1, 7, 1000}) {
    std::vector<float> host(T * E + 1);
    for (auto &v : host)
      v = static_cast<float>(std::rand()) / RAND_MAX * 4.0f - 2.0f;
    In *z;
    float *b, *w;
    int32_t *ids;
    cudaMalloc(&z, sizeof(In) * (T * E + 8));
    cudaMalloc(&b, sizeof(float) * E);
    cudaMalloc(&ids, sizeof(int32_t) * (T * K + 1));
    cudaMalloc(&w, sizeof(float) * (T * K + 1));
    std::vector<In> conv(T * E + 8);
    for (int64_t i = 0; i < T * E; ++i)
      conv[i] = static_cast<In>(host[i]);
    cudaMemcpy(z, conv.data(), sizeof(In) * T * E, cudaMemcpyHostToDevice);
    cudaMemset(b, 0, sizeof(float) * E);
    expect(fn(z, bias ? b : nullptr, ids, w, T, 0), cudaSuccess, name);
    expect(cudaDeviceSynchronize(), cudaSuccess, name);
    expect(fn(z, b, ids, w, -1, 0), cudaErrorInvalidValue, "negative T");
    if (T > 0)
      expect(fn(z + 1, b, ids, w, T, 0), cudaErrorMisalignedAddress,
             "misaligned logits");
    cudaFree(z);
    cudaFree(b);
    cudaFree(ids);
    cudaFree(w);
  }
}

// Adapters for launchers without a bias parameter.
#define NOBIAS(fn, In)                                                         \
  [](const In *z, const float *, int32_t *i, float *w, int64_t T,              \
     cudaStream_t s) { return fn(z, i, w, T, s); }

int main() {
  run<float>("v3_f32", v3_f32, 256, 8, true);
  run<__nv_bfloat16>("v3_bf16", v3_bf16, 256, 8, true);
  run<float>("v2_f32", NOBIAS(v2_f32, float), 160, 6, false);
  run<__nv_bfloat16>("v2_bf16", NOBIAS(v2_bf16, __nv_bfloat16), 160, 6, false);
  run<float>("v2_lite_f32", NOBIAS(v2_lite_f32, float), 64, 6, false);
  run<float>("e384_f32", e384_f32, 384, 8, true);
  run<__nv_bfloat16>("e512_bf16", NOBIAS(e512_bf16, __nv_bfloat16), 512, 8,
                     false);
  // Counts: T = 0 still writes zero counts.
  int32_t *counts, *ids;
  float *z, *b, *w;
  cudaMalloc(&counts, 256 * 4);
  cudaMalloc(&ids, 4);
  cudaMalloc(&w, 4);
  cudaMalloc(&z, 16);
  cudaMalloc(&b, 256 * 4);
  cudaMemset(counts, 0xff, 256 * 4);
  expect(v3_f32_counts(z, b, ids, w, counts, 0, 0), cudaSuccess, "counts T=0");
  std::vector<int32_t> host(256);
  cudaMemcpy(host.data(), counts, 256 * 4, cudaMemcpyDeviceToHost);
  for (int e = 0; e < 256; ++e)
    if (host[e] != 0) {
      std::printf("FAILED counts[%d] = %d after T = 0\n", e, host[e]);
      ++failures;
      break;
    }
  std::printf("smoke: %d failures\n", failures);
  return failures ? 1 : 0;
}
