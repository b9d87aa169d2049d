// RUN: moe-opt %s --split-input-file --moe-fuse-routing --convert-moe-to-emitc --verify-diagnostics

func.func @too_many_experts(%z: tensor<?x1024xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x1024xf32> -> tensor<?x1024xf32>
  // expected-error @+1 {{'moe.fused_route' op has 1024 experts; the CUDA routing kernel holds at most 512 (16 scores per lane of a warp)}}
  %ids, %w = moe.route %s k = 8 : (tensor<?x1024xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

func.func @too_many_slots(%z: tensor<?x64xf32>) -> (tensor<?x40xi32>, tensor<?x40xf32>) {
  // expected-error @+1 {{'moe.fused_route' op 'k' (40) exceeds the CUDA routing kernel's limit of 32 (one warp lane per slot)}}
  %ids, %w = moe.route %z k = 40 : (tensor<?x64xf32>) -> (tensor<?x40xi32>, tensor<?x40xf32>)
  return %ids, %w : tensor<?x40xi32>, tensor<?x40xf32>
}

// -----

func.func @too_many_groups(%z: tensor<?x128xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  // expected-error @+1 {{'moe.fused_route' op 'groups' (64) exceeds the CUDA routing kernel's limit of 32}}
  %ids, %w = moe.route %z k = 2 groups = 64 group_topk = 2 : (tensor<?x128xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %w : tensor<?x2xi32>, tensor<?x2xf32>
}

// -----

func.func @group_sum(%z: tensor<?x256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.fused_route' op 'group_score' topk_sum<5> exceeds the CUDA routing kernel's limit of topk_sum<4>}}
  %ids, %w = moe.route %z k = 8 groups = 8 group_topk = 4 group_score = topk_sum<5> : (tensor<?x256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

func.func @group_lanes(%z: tensor<?x96xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  // 96 experts are 3 per lane; groups of 32 are not whole lanes.
  // expected-error @+1 {{'moe.fused_route' op groups of 32 experts do not map onto whole warp lanes (3 experts per lane; a group must be a power-of-two number of lanes)}}
  %ids, %w = moe.route %z k = 2 groups = 3 group_topk = 1 : (tensor<?x96xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %w : tensor<?x2xi32>, tensor<?x2xf32>
}

// -----

func.func @unfused(%s: tensor<?x8xf32>, %ids: tensor<?x2xi32>) -> tensor<f32> {
  // expected-error @+1 {{'moe.balance_loss' op is not fused with a routing: the CUDA backend computes balance losses from the statistics of the routing kernel}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @returns_argument(%z: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x8xf32>) {
  %ids, %w = moe.route %z k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  // expected-error @+1 {{result #1 returns an argument; the CUDA backend writes results, it does not copy inputs}}
  return %ids, %z : tensor<?x2xi32>, tensor<?x8xf32>
}

// -----

// expected-error @+1 {{only the token dimension (dim 0) may be dynamic in a CUDA launcher, not in 'tensor<4x?xf32>'}}
func.func @dynamic_experts(%z: tensor<4x?xf32>) -> tensor<4x?xf32> {
  return %z : tensor<4x?xf32>
}

// -----

func.func @f32_experts(%rows: tensor<?x16xf32>, %off: tensor<5xi32>, %gu: tensor<4x8x16xf32>, %d: tensor<4x16x4xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{'moe.expert_ffn' op has 'f32' operands; the CUDA GEMMs take bf16}}
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x16xf32>, tensor<5xi32>, tensor<4x8x16xf32>, tensor<4x16x4xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

func.func @intermediate(%rows: tensor<?x64xbf16>, %off: tensor<5xi32>, %gu: tensor<4x96x64xbf16>, %d: tensor<4x64x48xbf16>) -> tensor<?x64xbf16> {
  // expected-error @+1 {{'moe.expert_ffn' op reduces over 48 elements; the CUDA GEMMs need a multiple of 32}}
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x64xbf16>, tensor<5xi32>, tensor<4x96x64xbf16>, tensor<4x64x48xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

func.func @intermediate_tiles(%rows: tensor<?x64xbf16>, %off: tensor<5xi32>, %gu: tensor<4x192x64xbf16>, %d: tensor<4x64x96xbf16>) -> tensor<?x64xbf16> {
  // expected-error @+1 {{'moe.expert_ffn' op has an intermediate size of 96; the CUDA gate/up GEMM needs a multiple of 64}}
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x64xbf16>, tensor<5xi32>, tensor<4x192x64xbf16>, tensor<4x64x96xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

func.func @gate_reduction(%x: tensor<?x40xbf16>, %w: tensor<16x40xbf16>) -> tensor<?x16xf32> {
  // expected-error @+1 {{'moe.gate' op reduces over 40 elements; the CUDA GEMMs need a multiple of 32}}
  %z = moe.gate %x, %w : tensor<?x40xbf16>, tensor<16x40xbf16> -> tensor<?x16xf32>
  return %z : tensor<?x16xf32>
}

// -----

func.func @not_expanded(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>, %gu: tensor<8x128x64xbf16>, %d: tensor<8x64x64xbf16>) -> tensor<?x64xbf16> {
  // expected-error @+1 {{'moe.layer' op is not expanded: run moe-expand-layer first (moe-lower-to-cuda does)}}
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x128x64xbf16>, tensor<8x64x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

func.func @permute_experts(%x: tensor<?x64xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<2049xi32>) {
  // expected-error @+1 {{'moe.permute' op has 2048 experts; the CUDA permute handles at most 1024}}
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<2049xi32>)
  return %rows, %map, %off : tensor<?x64xbf16>, tensor<?x8xi32>, tensor<2049xi32>
}

// -----

func.func @permute_vectors(%x: tensor<?x12xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x12xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  // expected-error @+1 {{'moe.permute' op has rows of 12 elements; the CUDA permute copies 16-byte vectors, so the hidden size must be a multiple of 8}}
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x12xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x12xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x12xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

// -----

func.func @combine_width(%h: tensor<?x20xf32>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x20xf32> {
  // expected-error @+1 {{'moe.combine' op has rows of 20 elements; the CUDA combine works on 8 elements per thread, so the hidden size must be a multiple of 8}}
  %y = moe.combine %h, %map, %w : (tensor<?x20xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x20xf32>
  return %y : tensor<?x20xf32>
}

// -----

func.func @layout_slots(%ids: tensor<?x72xi32>) -> (tensor<128xi32>, tensor<16xi32>, tensor<2xi32>, tensor<?x16xi1>) {
  // expected-error @+1 {{'moe.dispatch_layout' op has 72 slots per token; the CUDA dispatch layout handles at most 64}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 8>
      : tensor<?x72xi32> -> tensor<128xi32>, tensor<16xi32>, tensor<2xi32>, tensor<?x16xi1>
  return %pe, %pr, %pn, %in : tensor<128xi32>, tensor<16xi32>, tensor<2xi32>, tensor<?x16xi1>
}
