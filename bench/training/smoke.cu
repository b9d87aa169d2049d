// Calls the emitted training-step launchers on small random inputs and on
// bad arguments; run under compute-sanitizer by bench/training/gpu.sh.
#include "training.h"

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

template <typename T> static T *dev(size_t n) {
  T *p = nullptr;
  cudaMalloc(&p, sizeof(T) * (n ? n : 1));
  cudaMemset(p, 0, sizeof(T) * (n ? n : 1));
  return p;
}

static void random(float *p, size_t n) {
  std::vector<float> h(n);
  for (auto &v : h)
    v = static_cast<float>(std::rand()) / RAND_MAX * 4.0f - 2.0f;
  cudaMemcpy(p, h.data(), n * sizeof(float), cudaMemcpyHostToDevice);
}

static void v3(const char *what, int64_t T, bool batch) {
  float *z = dev<float>(T * 256), *b = dev<float>(256), *w = dev<float>(T * 8),
        *loss = dev<float>(1), *grad = dev<float>(T * 256),
        *nb = dev<float>(256);
  int32_t *ids = dev<int32_t>(T * 8);
  random(z, T * 256);
  size_t bytes =
      batch ? v3_step_batch_workspace_size(T) : v3_step_workspace_size(T);
  void *ws = dev<char>(bytes);
  cudaError_t err = batch
                        ? v3_step_batch(z, b, ids, w, loss, grad, nb, ws, T, 0)
                        : v3_step(z, b, ids, w, loss, grad, nb, ws, T, 0);
  expect(err, cudaSuccess, what);
  expect(cudaDeviceSynchronize(), cudaSuccess, what);
  if (!batch && T > 0)
    expect(v3_step(z, b, ids, w, loss, grad, nb, ws, T - 1, 0),
           cudaErrorInvalidValue, "T not a multiple of seq_len");
  expect(v3_step(z, b, ids, w, loss, grad, nb, nullptr, 4096, 0),
         cudaErrorInvalidValue, "no workspace");
  expect(v3_step(z, b, ids, w, loss, grad, nb, ws, -1, 0),
         cudaErrorInvalidValue, "negative T");
  for (void *p : {(void *)z, (void *)b, (void *)w, (void *)loss, (void *)grad,
                  (void *)nb, (void *)ids, ws})
    cudaFree(p);
}

static void v2(const char *what, int64_t T, bool batch) {
  float *z = dev<float>(T * 160), *w = dev<float>(T * 6), *l = dev<float>(3),
        *g = dev<float>(3 * T * 160);
  int32_t *ids = dev<int32_t>(T * 6);
  random(z, T * 160);
  size_t bytes =
      batch ? v2_step_batch_workspace_size(T) : v2_step_workspace_size(T);
  void *ws = dev<char>(bytes);
  cudaError_t err = batch
                        ? v2_step_batch(z, ids, w, l, l + 1, l + 2, g,
                                        g + T * 160, g + 2 * T * 160, ws, T, 0)
                        : v2_step(z, ids, w, l, l + 1, l + 2, g, g + T * 160,
                                  g + 2 * T * 160, ws, T, 0);
  expect(err, cudaSuccess, what);
  expect(cudaDeviceSynchronize(), cudaSuccess, what);
  for (void *p : {(void *)z, (void *)w, (void *)l, (void *)g, (void *)ids, ws})
    cudaFree(p);
}

int main() {
  v3("v3_step T=0", 0, false);
  v3("v3_step T=8192", 8192, false);
  v3("v3_step_batch T=1", 1, true);
  v3("v3_step_batch T=777", 777, true);
  v2("v2_step T=4096", 4096, false);
  v2("v2_step_batch T=1", 1, true);
  v2("v2_step_batch T=0", 0, true);
  std::printf("training smoke: %d failures\n", failures);
  return failures ? 1 : 0;
}
