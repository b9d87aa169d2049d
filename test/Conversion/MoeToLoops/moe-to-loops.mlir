// RUN: moe-opt %s --split-input-file --convert-moe-to-loops | FileCheck %s

// Routing becomes loops over buffers: the scores are read through
// bufferization.to_buffer, the results are fresh buffers.
// CHECK-LABEL: func.func @route
// CHECK-SAME: (%[[S:[^:]+]]: tensor<?x8xf32>, %[[B:[^:]+]]: tensor<8xf32>)
// CHECK-DAG: %[[SB:.+]] = bufferization.to_buffer %[[S]] read_only : tensor<?x8xf32> to memref<?x8xf32>
// CHECK-DAG: %[[BB:.+]] = bufferization.to_buffer %[[B]] read_only : tensor<8xf32> to memref<8xf32>
// CHECK-DAG: %[[IDS:.+]] = memref.alloc(%{{.+}}) : memref<?x2xi32>
// CHECK-DAG: %[[W:.+]] = memref.alloc(%{{.+}}) : memref<?x2xf32>
// CHECK: scf.for
// The routing order: greater, or the incumbent is NaN and the candidate not.
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// Renormalisation adds 1e-20 to the sum, then the scale.
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK-DAG: %[[TI:.+]] = bufferization.to_tensor %[[IDS]] restrict writable : memref<?x2xi32> to tensor<?x2xi32>
// CHECK-DAG: %[[TW:.+]] = bufferization.to_tensor %[[W]] restrict writable : memref<?x2xf32> to tensor<?x2xf32>
// CHECK: return %[[TI]], %[[TW]]
// CHECK-NOT: moe.
func.func @route(%s: tensor<?x8xf32>, %b: tensor<8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  %ids, %w = moe.route %s bias %b k = 2 groups = 2 group_topk = 1 group_score = topk_sum<2>
      normalize scale = 2.5
      : (tensor<?x8xf32>, tensor<8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %w : tensor<?x2xi32>, tensor<?x2xf32>
}

// -----

// Softmax is evaluated in f64 and rounded once.
// CHECK-LABEL: func.func @softmax
// CHECK: arith.maximumf {{.*}} : f32
// CHECK: arith.extf {{.*}} : f32 to f64
// CHECK: math.exp {{.*}} : f64
// CHECK: arith.truncf {{.*}} : f64 to f32
func.func @softmax(%z: tensor<?x8xbf16>) -> tensor<?x8xf32> {
  %s = moe.score softmax %z : tensor<?x8xbf16> -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// -----

// A dynamic token count must be whole sequences: a run-time check that
// does not abort. A failure goes into the public moe_runtime_error record
// ({kind 1, seq_len}) unless an earlier one is there; the loss goes on over
// the whole sequences.
// CHECK: memref.global @moe_runtime_error : memref<2xi64> = dense<0>
// CHECK-LABEL: func.func @loss
// CHECK: %[[REM:.+]] = arith.remsi %{{.+}}, %c16
// CHECK: %[[WHOLE:.+]] = arith.cmpi eq, %[[REM]], %c0
// CHECK: %[[BAD:.+]] = arith.xori %[[WHOLE]], %true
// CHECK: scf.if %[[BAD]] {
// CHECK:   %[[REC:.+]] = memref.get_global @moe_runtime_error : memref<2xi64>
// CHECK:   %[[KIND:.+]] = memref.load %[[REC]][%c0{{.*}}] : memref<2xi64>
// CHECK:   %[[FIRST:.+]] = arith.cmpi eq, %[[KIND]], %c0_i64
// CHECK:   scf.if %[[FIRST]] {
// CHECK:     memref.store %c1_i64, %[[REC]][%c0{{.*}}] : memref<2xi64>
// CHECK:     memref.store %c16_i64, %[[REC]][%c1{{.*}}] : memref<2xi64>
// CHECK-NOT: cf.assert
// CHECK: memref.alloc() : memref<f32>
func.func @loss(%s: tensor<?x8xf32>, %ids: tensor<?x2xi32>) -> tensor<f32> {
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 16>
      : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A static token count is checked by the verifier: no record.
// CHECK-NOT: moe_runtime_error
// CHECK-LABEL: func.func @static_loss
// CHECK-NOT: scf.if
// CHECK: memref.alloc() : memref<f32>
func.func @static_loss(%s: tensor<32x8xf32>, %ids: tensor<32x2xi32>) -> tensor<f32> {
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 16>
      : tensor<32x8xf32>, tensor<32x2xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A whole layer is expanded and lowered in one go: no moe op remains.
// CHECK-LABEL: func.func @layer
// CHECK-NOT: moe.
// CHECK: math.exp
// CHECK-NOT: moe.
// CHECK: return
func.func @layer(%x: tensor<4x16xbf16>, %r: tensor<8x16xbf16>, %gu: tensor<8x12x16xbf16>,
                 %d: tensor<8x16x6xbf16>) -> (tensor<4x16xbf16>, tensor<f32>) {
  %y, %l = moe.layer %x router %r experts %gu, %d score softmax k = 2 capacity_factor = 1.0
      losses [#moe.loss<expert, alpha = 0.01>]
      : (tensor<4x16xbf16>, tensor<8x16xbf16>, tensor<8x12x16xbf16>, tensor<8x16x6xbf16>)
        -> (tensor<4x16xbf16>, tensor<f32>)
  return %y, %l : tensor<4x16xbf16>, tensor<f32>
}

// -----

// FP8 quantisation: per token and group, amax in f32 floored at 1e-4, the
// scale amax / 448 (ue8m0: rounded up to a power of two on its bits), then
// each x / s encoded to e4m3fn bits with integer arithmetic (ties to even;
// a NaN quotient takes the sign of x).
// CHECK-LABEL: func.func @quantize
// CHECK: %[[X:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x256xbf16> to memref<?x256xbf16>
// CHECK-DAG: %[[Q:.+]] = memref.alloc(%{{.+}}) : memref<?x256xf8E4M3FN>
// CHECK-DAG: %[[S:.+]] = memref.alloc(%{{.+}}) : memref<?x2xf32>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: %[[AMAX:.+]] = scf.for {{.*}} -> (f32)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[FLOOR:.+]] = arith.maximumf %[[AMAX]], %{{.+}} : f32
// CHECK: %[[DIVS:.+]] = arith.divf %[[FLOOR]], %{{.+}} : f32
// CHECK: %[[SNAN:.+]] = arith.cmpf uno, %[[DIVS]], %[[DIVS]] : f32
// CHECK: %[[SC:.+]] = arith.select %[[SNAN]], %{{.+}}, %[[DIVS]] : f32
// CHECK: %[[BITS:.+]] = arith.bitcast %[[SC]] : f32 to i32
// CHECK: %[[P2:.+]] = arith.bitcast %{{.+}} : i32 to f32
// CHECK: scf.for
// CHECK: %[[DIV:.+]] = arith.divf %{{.+}}, %[[P2]] : f32
// CHECK: %[[NAN:.+]] = math.copysign
// CHECK: %[[ISNAN:.+]] = arith.cmpf uno, %[[DIV]], %[[DIV]] : f32
// CHECK: %[[QUO:.+]] = arith.select %[[ISNAN]], %[[NAN]], %[[DIV]] : f32
// CHECK: arith.bitcast %[[QUO]] : f32 to i32
// CHECK: arith.fptosi
// CHECK: %[[CODE:.+]] = arith.trunci %{{.+}} : i32 to i8
// CHECK: %[[F8:.+]] = arith.bitcast %[[CODE]] : i8 to f8E4M3FN
// CHECK: memref.store %[[F8]], %[[Q]]
// CHECK: memref.store %[[P2]], %[[S]]
// CHECK: bufferization.to_tensor %[[Q]]
// CHECK: bufferization.to_tensor %[[S]]
func.func @quantize(%x: tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>) {
  %q, %s = moe.quantize %x group = 128 ue8m0 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
  return %q, %s : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
}

// -----

// The FP8 FFN: per 128-wide K block an f64 sum of decoded e4m3 products
// (bits -> f32 through a table of the 256 values, exact), rounded once to f32, times
// the row's scale, times the weight block's scale [e, n / 128, b], added to
// the f32 accumulator; h rounded to bf16, then quantised per 128 for the
// down projection, whose scales are h's and the down blocks'.
// The 256 e4m3fn values, one table per module (a decode is a lookup),
// little-endian f32 bits: 0, 2^-9, 2^-8, ...; 448 (0x43E00000), NaN
// (0x7FC00000) at 0x7F, -0 at 0x80, ... and a negative NaN at 0xFF.
// CHECK: memref.global "private" constant @moe_e4m3fn_values : memref<256xf32> = dense<"0x000000000000003B0000803B0000C03B
// CHECK-SAME: 0000E0430000C07F00000080000000BB
// CHECK-SAME: 0000E0C30000C0FF">
// CHECK-LABEL: func.func @fp8_ffn
// CHECK-DAG: %[[X:.+]] = bufferization.to_buffer %arg0 read_only : tensor<?x256xf8E4M3FN> to memref<?x256xf8E4M3FN>
// CHECK-DAG: %[[XS:.+]] = bufferization.to_buffer %arg1 read_only : tensor<?x2xf32> to memref<?x2xf32>
// CHECK-DAG: %[[GU:.+]] = bufferization.to_buffer %arg3 read_only : tensor<2x256x256xf8E4M3FN> to memref<2x256x256xf8E4M3FN>
// CHECK-DAG: %[[D:.+]] = bufferization.to_buffer %arg4 read_only : tensor<2x256x128xf8E4M3FN> to memref<2x256x128xf8E4M3FN>
// CHECK-DAG: %[[GUS:.+]] = bufferization.to_buffer %arg5 read_only : tensor<2x2x2xf32> to memref<2x2x2xf32>
// CHECK-DAG: %[[DS:.+]] = bufferization.to_buffer %arg6 read_only : tensor<2x2x1xf32> to memref<2x2x1xf32>
// CHECK-DAG: %[[H:.+]] = memref.alloc() : memref<128xf32>
// CHECK-DAG: %[[HQ:.+]] = memref.alloc() : memref<128xf32>
// CHECK-DAG: %[[HS:.+]] = memref.alloc() : memref<1xf32>
// The gate projection of row %[[R:.+]], column %[[N:.+]]:
// CHECK: scf.for %[[E:.+]] = {{.+}} {
// CHECK: scf.for %[[R:.+]] = {{.+}} {
// CHECK: scf.for %[[N:.+]] = {{.+}} {
// CHECK: %[[NB:.+]] = arith.divui %[[N]], %{{.+}} : index
// CHECK: %[[G:.+]] = scf.for %[[B:.+]] = {{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (f32) {
// CHECK: %[[SUM:.+]] = scf.for {{.+}} -> (f64) {
// CHECK: memref.load %[[GU]][%[[E]], %[[N]], %{{.+}}] : memref<2x256x256xf8E4M3FN>
// CHECK: %[[BITS:.+]] = arith.bitcast %{{.+}} : f8E4M3FN to i8
// CHECK: %[[TABLE:.+]] = memref.get_global @moe_e4m3fn_values : memref<256xf32>
// CHECK: %[[CODE:.+]] = arith.index_castui %[[BITS]] : i8 to index
// CHECK: memref.load %[[TABLE]][%[[CODE]]] : memref<256xf32>
// CHECK: arith.extf %{{.+}} : f32 to f64
// CHECK: memref.load %[[X]][%[[R]], %{{.+}}] : memref<?x256xf8E4M3FN>
// CHECK: %[[P:.+]] = arith.mulf %{{.+}}, %{{.+}} : f64
// CHECK: %[[NEXT:.+]] = arith.addf %{{.+}}, %[[P]] : f64
// CHECK: scf.yield %[[NEXT]] : f64
// CHECK: %[[S32:.+]] = arith.truncf %[[SUM]] : f64 to f32
// CHECK: %[[WS:.+]] = memref.load %[[GUS]][%[[E]], %[[NB]], %[[B]]] : memref<2x2x2xf32>
// CHECK: %[[RS:.+]] = memref.load %[[XS]][%[[R]], %[[B]]] : memref<?x2xf32>
// CHECK: %[[T1:.+]] = arith.mulf %[[S32]], %[[RS]] : f32
// CHECK: %[[T2:.+]] = arith.mulf %[[T1]], %[[WS]] : f32
// CHECK: %[[A:.+]] = arith.addf %[[ACC]], %[[T2]] : f32
// CHECK: scf.yield %[[A]] : f32
// SiLU·mul rounded to bf16:
// CHECK: math.exp
// CHECK: %[[HB:.+]] = arith.truncf %{{.+}} : f32 to bf16
// CHECK: %[[HF:.+]] = arith.extf %[[HB]] : bf16 to f32
// CHECK: memref.store %[[HF]], %[[H]][%[[N]]] : memref<128xf32>
// h quantised: amax, scale, codes decoded back into HQ.
// CHECK: arith.maximumf
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: %[[HSC:.+]] = arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK: arith.trunci %{{.+}} : i32 to i8
// CHECK: memref.store %{{.+}}, %[[HQ]][%{{.+}}] : memref<128xf32>
// CHECK: memref.store %[[HSC]], %[[HS]][%{{.+}}] : memref<1xf32>
// The down projection reads HQ and HS:
// CHECK: memref.load %[[D]][%[[E]], %{{.+}}, %{{.+}}] : memref<2x256x128xf8E4M3FN>
// CHECK: memref.load %[[HQ]][%{{.+}}] : memref<128xf32>
// CHECK: arith.truncf %{{.+}} : f64 to f32
// CHECK: memref.load %[[DS]][%[[E]], %{{.+}}, %{{.+}}] : memref<2x2x1xf32>
// CHECK: memref.load %[[HS]][%{{.+}}] : memref<1xf32>
// CHECK: arith.truncf %{{.+}} : f32 to bf16
func.func @fp8_ffn(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x2xf32>, %off: tensor<3xi32>,
                   %gu: tensor<2x256x256xf8E4M3FN>, %d: tensor<2x256x128xf8E4M3FN>,
                   %gus: tensor<2x2x2xf32>, %ds: tensor<2x2x1xf32>) -> tensor<?x256xbf16> {
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds
      : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<3xi32>, tensor<2x256x256xf8E4M3FN>,
         tensor<2x256x128xf8E4M3FN>, tensor<2x2x2xf32>, tensor<2x2x1xf32>) -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

// -----

// e4m3 rows travel with their scales: zero-filled through i8 (the CPU has
// no f8 constants), and each kept row copies its group scales.
// CHECK-LABEL: func.func @fp8_permute
// CHECK-DAG: %[[S:.+]] = bufferization.to_buffer %arg1 read_only : tensor<?x2xf32> to memref<?x2xf32>
// CHECK-DAG: %[[RS:.+]] = memref.alloc(%{{.+}}) : memref<?x2xf32>
// CHECK-DAG: %[[ROWS:.+]] = memref.alloc(%{{.+}}) : memref<?x256xf8E4M3FN>
// CHECK: %[[Z8:.+]] = arith.bitcast %{{.+}} : i8 to f8E4M3FN
// CHECK: memref.store %[[Z8]], %[[ROWS]]
// CHECK: %[[SC:.+]] = memref.load %[[S]][%{{.+}}, %{{.+}}] : memref<?x2xf32>
// CHECK: memref.store %[[SC]], %[[RS]][%{{.+}}, %{{.+}}] : memref<?x2xf32>
// CHECK: bufferization.to_tensor %[[RS]]
func.func @fp8_permute(%q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %ids: tensor<?x2xi32>,
                       %w: tensor<?x2xf32>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>) {
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w
      : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x256xf8E4M3FN>, tensor<?x2xi32>, tensor<5xi32>, tensor<?x2xf32>)
  return %rows, %rs : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
}

// -----

// Router logits: the f32 sum of each (token, expert), rounded once to the
// result's type when that is bf16.
// CHECK-LABEL: func.func @gate_bf16
// CHECK: %[[Z:.+]] = memref.alloc({{.+}}) : memref<?x8xbf16>
// CHECK: scf.for
// CHECK: %[[SUM:.+]] = scf.for {{.+}} -> (f32)
// CHECK: arith.mulf {{.+}} : f32
// CHECK: arith.addf {{.+}} : f32
// CHECK: %[[B:.+]] = arith.truncf %[[SUM]] : f32 to bf16
// CHECK: memref.store %[[B]], %[[Z]]
func.func @gate_bf16(%x: tensor<?x64xbf16>, %w: tensor<8x64xbf16>) -> tensor<?x8xbf16> {
  %z = moe.gate %x, %w : tensor<?x64xbf16>, tensor<8x64xbf16> -> tensor<?x8xbf16>
  return %z : tensor<?x8xbf16>
}
