// A minimal driver for profiling one emitted routing launcher with ncu:
//   profile <config> <T>   (config: v3_f32 | v3_bf16 | v2_f32 | v2_lite_f32 |
//   e384_f32)
#include "routing.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char **argv) {
  const char *cfg = argc > 1 ? argv[1] : "v3_f32";
  int64_t T = argc > 2 ? std::atoll(argv[2]) : 65536;
  int E = 256, K = 8;
  if (!std::strcmp(cfg, "v2_f32"))
    E = 160, K = 6;
  if (!std::strcmp(cfg, "v2_lite_f32"))
    E = 64, K = 6;
  if (!std::strcmp(cfg, "e384_f32"))
    E = 384;
  std::vector<float> host(T * E);
  for (auto &v : host)
    v = (static_cast<float>(std::rand()) / RAND_MAX - 0.5f) * 8.0f;
  float *z, *b, *w;
  int32_t *ids;
  cudaMalloc(&z, sizeof(float) * T * E);
  cudaMalloc(&b, sizeof(float) * E);
  cudaMalloc(&ids, sizeof(int32_t) * T * K);
  cudaMalloc(&w, sizeof(float) * T * K);
  cudaMemcpy(z, host.data(), sizeof(float) * T * E, cudaMemcpyHostToDevice);
  cudaMemset(b, 0, sizeof(float) * E);
  for (int i = 0; i < 3; ++i) {
    cudaError_t err = cudaSuccess;
    if (!std::strcmp(cfg, "v3_f32"))
      err = v3_f32(z, b, ids, w, T, 0);
    else if (!std::strcmp(cfg, "v2_f32"))
      err = v2_f32(z, ids, w, T, 0);
    else if (!std::strcmp(cfg, "v2_lite_f32"))
      err = v2_lite_f32(z, ids, w, T, 0);
    else if (!std::strcmp(cfg, "e384_f32"))
      err = e384_f32(z, b, ids, w, T, 0);
    if (err != cudaSuccess) {
      std::printf("error %s\n", cudaGetErrorString(err));
      return 1;
    }
  }
  cudaDeviceSynchronize();
  std::printf("profiled %s T=%lld\n", cfg, (long long)T);
  return 0;
}
