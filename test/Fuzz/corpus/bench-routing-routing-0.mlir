func.func @v3_f32(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

func.func @v3_f32_counts(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

func.func @v3_bf16(%z: tensor<?x256xbf16>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xbf16> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

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

func.func @v2_lite_f32(%z: tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x64xf32> -> tensor<?x64xf32>
  %ids, %w = moe.route %s k = 6 : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}

func.func @e384_f32(%z: tensor<?x384xf32>, %b: tensor<384xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x384xf32> -> tensor<?x384xf32>
  %ids, %w = moe.route %s bias %b k = 8 normalize scale = 2.827
      : (tensor<?x384xf32>, tensor<384xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

func.func @e512_bf16(%z: tensor<?x512xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score softmax %z : tensor<?x512xbf16> -> tensor<?x512xf32>
  %ids, %w = moe.route %s k = 8 normalize
      : (tensor<?x512xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}
