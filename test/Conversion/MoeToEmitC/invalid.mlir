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

func.func @no_cuda_yet(%x: tensor<?x16xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{'moe.permute' op has no CUDA lowering yet}}
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x16xf32>, tensor<?x2xi32>, tensor<9xi32>)
  return %r : tensor<?x16xf32>
}
