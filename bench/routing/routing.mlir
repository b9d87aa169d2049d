// The routing configurations of the GPU benchmark (bench/routing) and of the
// emitted-CUDA tests (test/Target/CUDA/routing.test). Each function becomes
// one extern "C" launcher of the same name.

// DeepSeek-V3: 256 experts, 8 groups, 4 per token, top-2-sum group score,
// top-8, sigmoid, aux-loss-free bias, normalised, x2.5; from f32 logits.
func.func @v3_f32(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// The same with the per-expert token counts the bias update consumes.
func.func @v3_f32_counts(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

// DeepSeek-V3 from bf16 logits (arithmetic stays f32).
func.func @v3_bf16(%z: tensor<?x256xbf16>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xbf16> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// DeepSeek-V2: 160 experts, 8 groups, 3 per token, group max, top-6,
// softmax, not normalised, x16.
func.func @v2_f32(%z: tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}

func.func @v2_bf16(%z: tensor<?x160xbf16>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x160xbf16> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}

// DeepSeek-V2-Lite: 64 experts, no groups, top-6, softmax, x1.
func.func @v2_lite_f32(%z: tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x64xf32> -> tensor<?x64xf32>
  %ids, %w = moe.route %s k = 6 : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}

// Ungrouped routing over 384 experts, top-8, sigmoid with bias, normalised.
func.func @e384_f32(%z: tensor<?x384xf32>, %b: tensor<384xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x384xf32> -> tensor<?x384xf32>
  %ids, %w = moe.route %s bias %b k = 8 normalize scale = 2.827
      : (tensor<?x384xf32>, tensor<384xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// The largest ungrouped configuration the kernel serves: 512 experts.
func.func @e512_bf16(%z: tensor<?x512xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score softmax %z : tensor<?x512xbf16> -> tensor<?x512xf32>
  %ids, %w = moe.route %s k = 8 normalize
      : (tensor<?x512xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}
