// Calls the emitted dispatch launchers (H = 64) on small random inputs,
// checks the invariants that need no reference (every kept row holds its
// token, offsets count the kept rows, row ids are unique) and bad
// arguments; run under compute-sanitizer by bench/dispatch/gpu.sh.
#include "dispatch.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_bf16.h>
#include <vector>

static int failures = 0;
static void expect(bool ok, const char *what, long a = 0, long b = 0) {
  if (!ok) {
    std::printf("FAILED %s (%ld, %ld)\n", what, a, b);
    ++failures;
  }
}
static void expectErr(cudaError_t got, cudaError_t want, const char *what) {
  if (got != want) {
    std::printf("FAILED %s: got %s, want %s\n", what, cudaGetErrorString(got),
                cudaGetErrorString(want));
    ++failures;
  }
}

template <typename T> static T *dev(size_t n) {
  T *p = nullptr;
  cudaMalloc(&p, sizeof(T) * (n ? n : 1));
  cudaMemset(p, 0xff, sizeof(T) * (n ? n : 1)); // poison
  return p;
}
template <typename T> static std::vector<T> host(const T *p, size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}

constexpr int E = 256, K = 8, H = 64;

static void run(int64_t T, bool skew, bool probs) {
  std::vector<int32_t> ids(T * K);
  std::vector<float> w(T * K);
  std::vector<uint16_t> x(T * H);
  for (int64_t t = 0; t < T; ++t) {
    // K distinct experts; skewed batches crowd the first 16.
    for (int k = 0; k < K; ++k) {
      int e;
      bool dup;
      do {
        e = skew ? std::rand() % 16 : std::rand() % E;
        dup = false;
        for (int j = 0; j < k; ++j)
          dup |= ids[t * K + j] == e;
      } while (dup);
      ids[t * K + k] = (t % 13 == 5 && k == 3) ? -1 : e;
      w[t * K + k] = static_cast<float>(std::rand() % 8) / 8.0f; // ties
    }
    for (int h = 0; h < H; ++h)
      x[t * H + h] = static_cast<uint16_t>(t * 7 + h); // token-identifying
  }
  auto *dIds = dev<int32_t>(T * K);
  auto *dW = dev<float>(T * K);
  auto *dX = dev<__nv_bfloat16>(T * H);
  cudaMemcpy(dIds, ids.data(), ids.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dW, w.data(), w.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dX, x.data(), x.size() * 2, cudaMemcpyHostToDevice);
  auto *rows = dev<__nv_bfloat16>(T * K * H);
  auto *map = dev<int32_t>(T * K);
  auto *off = dev<int32_t>(E + 1);
  size_t bytes = probs ? permute_probs_h64_workspace_size(T)
                       : permute_h64_workspace_size(T);
  void *ws = dev<char>(bytes);
  cudaError_t err =
      probs ? permute_probs_h64(dX, dIds, dW, rows, map, off, ws, T, nullptr)
            : permute_h64(dX, dIds, dW, rows, map, off, ws, T, nullptr);
  expectErr(err, cudaSuccess, "permute launch");
  expectErr(cudaDeviceSynchronize(), cudaSuccess, "permute run");
  auto hRows = host(reinterpret_cast<uint16_t *>(rows), T * K * H);
  auto hMap = host(map, T * K);
  auto hOff = host(off, E + 1);
  std::vector<int> seen(T * K, 0);
  long kept = 0;
  for (int64_t a = 0; a < T * K; ++a) {
    int r = hMap[a];
    if (r < 0)
      continue;
    ++kept;
    expect(r < T * K && !seen[r]++, "row used once", a, r);
    int e = ids[a];
    expect(r >= hOff[e] && r < hOff[e + 1], "row inside its expert", a, r);
    expect(std::memcmp(&hRows[r * H], &x[(a / K) * H], H * 2) == 0,
           "row holds its token", a, r);
  }
  expect(hOff[0] == 0 && hOff[E] == kept, "offsets count the kept rows",
         hOff[E], kept);
  for (int64_t r = kept * H; r < T * K * H; ++r)
    if (hRows[r] != 0) {
      expect(false, "rows after the kept ones are zero", r / H, kept);
      break;
    }
  if (!probs)
    expect(kept == T * K - (T + 7) / 13, "no capacity keeps every valid slot",
           kept, T * K);

  auto *out = dev<__nv_bfloat16>(T * H);
  expectErr(combine_h64(rows, map, dW, dX, out, T, nullptr), cudaSuccess,
            "combine launch");
  expectErr(cudaDeviceSynchronize(), cudaSuccess, "combine run");

  auto *pe = dev<int32_t>(E), *pr = dev<int32_t>(64), *pn = dev<int32_t>(8);
  auto *in = dev<bool>(T * 64);
  expectErr(layout(dIds, pe, pr, pn, in, T, nullptr), cudaSuccess,
            "layout launch");
  expectErr(cudaDeviceSynchronize(), cudaSuccess, "layout run");
  auto hPe = host(pe, E);
  long total = 0;
  for (int e = 0; e < E; ++e)
    total += hPe[e];
  expect(total == T * K - (T + 7) / 13, "layout counts every valid slot", total,
         T * K);
  // Ranks and nodes: each token once per rank / node it reaches.
  std::vector<int> wantRank(64, 0), wantNode(8, 0);
  for (int64_t t = 0; t < T; ++t) {
    bool r[64] = {}, n[8] = {};
    for (int k = 0; k < K; ++k)
      if (ids[t * K + k] >= 0)
        r[ids[t * K + k] / 4] = n[ids[t * K + k] / 32] = true;
    for (int i = 0; i < 64; ++i)
      wantRank[i] += r[i];
    for (int i = 0; i < 8; ++i)
      wantNode[i] += n[i];
  }
  auto hPr = host(pr, 64), hPn = host(pn, 8);
  auto hIn = host(reinterpret_cast<uint8_t *>(in), T * 64);
  for (int i = 0; i < 64; ++i)
    expect(hPr[i] == wantRank[i], "tokens per rank", i, hPr[i]);
  for (int i = 0; i < 8; ++i)
    expect(hPn[i] == wantNode[i], "tokens per node", i, hPn[i]);
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < K; ++k)
      if (ids[t * K + k] >= 0)
        expect(hIn[t * 64 + ids[t * K + k] / 4], "send mask", t, k);
  for (void *p : {(void *)dIds, (void *)dW, (void *)dX, (void *)rows,
                  (void *)map, (void *)off, ws, (void *)out, (void *)pe,
                  (void *)pr, (void *)pn, (void *)in})
    cudaFree(p);
}

int main() {
  // 3000 tokens: one fused scan + place; 5000: the separate kernels.
  for (int64_t T : {0, 1, 7, 300, 3000, 5000})
    for (bool skew : {false, true})
      for (bool probs : {false, true})
        run(T, skew, probs);
  // Bad arguments: negative T, a missing workspace, misaligned rows.
  auto *x = dev<__nv_bfloat16>(8 * H + 8);
  auto *ids = dev<int32_t>(8 * K);
  auto *w = dev<float>(8 * K);
  auto *rows = dev<__nv_bfloat16>(8 * K * H + 8);
  auto *map = dev<int32_t>(8 * K);
  auto *off = dev<int32_t>(E + 1);
  void *ws = dev<char>(permute_probs_h64_workspace_size(8));
  expectErr(permute_probs_h64(x, ids, w, rows, map, off, ws, -1, nullptr),
            cudaErrorInvalidValue, "negative T");
  expectErr(permute_probs_h64(x, ids, w, rows, map, off, nullptr, 8, nullptr),
            cudaErrorInvalidValue, "missing workspace");
  expectErr(permute_probs_h64(x + 1, ids, w, rows, map, off, ws, 8, nullptr),
            cudaErrorMisalignedAddress, "misaligned input");
  expectErr(combine_h64(rows + 1, map, w, x, x, 8, nullptr),
            cudaErrorMisalignedAddress, "misaligned combine");
  std::printf("dispatch smoke: %d failures\n", failures);
  return failures ? 1 : 0;
}
