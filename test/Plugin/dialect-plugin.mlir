// The moe dialect and passes inside the stock mlir-opt, loaded as a plugin.
// RUN: mlir-opt %s --load-dialect-plugin=%moe_libs/MoePlugin%shlibext --verify-roundtrip | FileCheck %s --check-prefix=ROUNDTRIP
// The dialect plugin also registers the passes; they are named in
// --pass-pipeline (mlir-opt creates the per-pass flags before plugins load).
// RUN: mlir-opt %s --load-dialect-plugin=%moe_libs/MoePlugin%shlibext --pass-pipeline="builtin.module(moe-expand-layer,canonicalize)" | FileCheck %s --check-prefix=EXPAND
// RUN: mlir-opt %s --load-dialect-plugin=%moe_libs/MoePlugin%shlibext --load-pass-plugin=%moe_libs/MoePlugin%shlibext --pass-pipeline="builtin.module(func.func(moe-expand-layer))" | FileCheck %s --check-prefix=EXPAND
// Without the plugin the stock tool does not know the dialect.
// RUN: not mlir-opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN

// NOPLUGIN: error: Dialect `moe' not found for custom op 'moe.layer'

// ROUNDTRIP-LABEL: func.func @layer
// ROUNDTRIP: moe.layer %{{.+}} router %{{.+}} bias %{{.+}} experts %{{.+}}, %{{.+}} score sigmoid k = 2 groups = 4 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.500000e+00

// EXPAND-LABEL: func.func @layer
// EXPAND: moe.gate
// EXPAND: moe.score sigmoid
// EXPAND: moe.route %{{.+}} bias %{{.+}} k = 2 groups = 4 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.500000e+00
// EXPAND: moe.permute
// EXPAND: moe.expert_ffn
// EXPAND: moe.combine
// EXPAND-NOT: moe.layer
func.func @layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %b: tensor<8xf32>,
                 %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  %y = moe.layer %x router %r bias %b experts %gu, %d score sigmoid k = 2 groups = 4
      group_topk = 2 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>)
        -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
