func.func @f(%s: tensor<4x8xf32>) { %ids, %w = moe.route %s k = 2 groups
