// RUN: moe-opt %s --split-input-file --convert-moe-to-emitc=fuse-gather=true \
// RUN:   | FileCheck %s
// RUN: moe-opt %s --split-input-file --convert-moe-to-emitc \
// RUN:   | FileCheck %s --check-prefix=COPY

// fuse-gather: a permute whose rows only the routed expert GEMM reads copies
// nothing, the rows get no workspace (one [T*K, 128] bf16 buffer is left:
// the expert outputs), and gate/up reads row r from row rowToken[r] (the
// permute workspace's last buffer) of the T input rows; down reads h in
// order.
// CHECK-LABEL: emitc.func @fused_workspace_size(
// CHECK: moe::cuda::wsBytes((moe_T * 2) * 256)
// CHECK-NOT: moe::cuda::wsBytes((moe_T * 2) * 256)
// CHECK: static_cast<size_t>(moe_total)
// CHECK-NOT: permuteGatherBody
// CHECK-LABEL: emitc.func @fused(
// CHECK: %[[NOROWS:.*]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"__nv_bfloat16">>
// CHECK: call_opaque "moe::cuda::checkPermute"(%arg0, %[[NOROWS]], %arg7)
// CHECK: verbatim "const moe::cuda::PermuteWorkspace<fused_k0_spec> fused_k0_ws = {{.*}}" args %{{.*}}, %{{.*}}, %{{.*}}, %[[ROWTOKEN:[^ ]*]] :
// CHECK-NOT: fused_k0_gather
// CHECK: %[[T:.*]] = literal "moe_T" : i64
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"(%[[ROWS:.*]], %arg0, %[[T]], %[[ROWTOKEN]], %arg3, %[[TILES:.*]], %[[H:.*]], %[[NOSPLIT:.*]], %arg8) {args = [#emitc.opaque<"fused_k1_up">
// CHECK: %[[NOMAP:.*]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"const int32_t">>
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"(%[[ROWS]], %[[H]], %[[ROWS]], %[[NOMAP]], %arg4, %[[TILES]], %{{.*}}, %{{.*}}, %arg8) {args = [#emitc.opaque<"fused_k1_down">

// Without fuse-gather (the default) the permute copies the rows.
// COPY-LABEL: emitc.func @fused_workspace_size(
// COPY: moe::cuda::wsBytes((moe_T * 2) * 256)
// COPY: moe::cuda::wsBytes((moe_T * 2) * 256)
// COPY: emitc.func @fused_k0_gather(
// COPY-LABEL: emitc.func @fused(
// COPY: call_opaque "moe::cuda::launchChained"({{.*}}) {args = [#emitc.opaque<"fused_k0_gather">
// COPY: call_opaque "moe::cuda::launchGroupedGemm"(%[[ROWS:.*]], %[[COPIED:.*]], %[[ROWS]], %{{.*}}, %arg3, {{.*}}#emitc.opaque<"fused_k1_up">
// COPY-NOT: %[[COPIED]], %arg0
func.func @fused(%x: tensor<?x128xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                 %gu: tensor<8x128x128xbf16>, %d: tensor<8x128x64xbf16>) -> tensor<?x128xbf16> {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x128xbf16>, tensor<9xi32>, tensor<8x128x128xbf16>, tensor<8x128x64xbf16>) -> tensor<?x128xbf16>
  %z = moe.combine %y, %map, %w : (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x128xbf16>
  return %z : tensor<?x128xbf16>
}

// -----

// Returned rows are written by the permute: the copy stays.
// CHECK-LABEL: emitc.func @returned_rows_k0_gather(
// CHECK-LABEL: emitc.func @returned_rows(
// CHECK: call_opaque "moe::cuda::launchChained"({{.*}}) {args = [#emitc.opaque<"returned_rows_k0_gather">
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"(%{{.*}}, %arg5, %{{.*}}, %{{.*}}, %arg3, {{.*}}#emitc.opaque<"returned_rows_k1_up">
func.func @returned_rows(%x: tensor<?x128xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                         %gu: tensor<8x128x128xbf16>, %d: tensor<8x128x64xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x128xbf16>, tensor<9xi32>, tensor<8x128x128xbf16>, tensor<8x128x64xbf16>) -> tensor<?x128xbf16>
  return %rows, %y : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// Rows read twice (here by two expert sets): copied once, read from the
// copy.
// CHECK-LABEL: emitc.func @two_readers_k0_gather(
// CHECK-LABEL: emitc.func @two_readers(
// CHECK: call_opaque "moe::cuda::launchChained"({{.*}}) {args = [#emitc.opaque<"two_readers_k0_gather">
func.func @two_readers(%x: tensor<?x128xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                       %gu: tensor<8x128x128xbf16>, %d: tensor<8x128x64xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x128xbf16>, tensor<9xi32>, tensor<8x128x128xbf16>, tensor<8x128x64xbf16>) -> tensor<?x128xbf16>
  %y2 = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x128xbf16>, tensor<9xi32>, tensor<8x128x128xbf16>, tensor<8x128x64xbf16>) -> tensor<?x128xbf16>
  return %y, %y2 : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// Offsets that are not the permute's: the tiles would not match the rows'
// experts' the way the row map does, so the rows are copied.
// CHECK-LABEL: emitc.func @other_offsets_k0_gather(
// CHECK-LABEL: emitc.func @other_offsets(
// CHECK: call_opaque "moe::cuda::launchChained"({{.*}}) {args = [#emitc.opaque<"other_offsets_k0_gather">
func.func @other_offsets(%x: tensor<?x128xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>, %o: tensor<9xi32>,
                         %gu: tensor<8x128x128xbf16>, %d: tensor<8x128x64xbf16>) -> tensor<?x128xbf16> {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x128xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %y = moe.expert_ffn %rows offsets %o weights %gu, %d
      : (tensor<?x128xbf16>, tensor<9xi32>, tensor<8x128x128xbf16>, tensor<8x128x64xbf16>) -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}
