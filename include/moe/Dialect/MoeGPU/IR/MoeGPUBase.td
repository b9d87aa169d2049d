//===- MoeGPUBase.td - moegpu dialect definition -----------*- tablegen -*-===//
//
// The moegpu dialect: the CUDA kernels of a moe program for one target, with
// every decision of the code generator stated in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_MOEGPU_IR_MOEGPUBASE_TD
#define MOE_DIALECT_MOEGPU_IR_MOEGPUBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def MoeGPU_Dialect : Dialect {
  let name = "moegpu";
  let cppNamespace = "::mlir::moegpu";
  let summary = "CUDA kernels of Mixture-of-Experts layers, configured for a target";
  let description = [{
    The `moegpu` dialect sits between the semantic `moe` dialect and EmitC.
    One op is one hand-written CUDA kernel (or a small fixed group of them:
    a split-K GEMM and its reduction, the permute's rank/scan/place/gather)
    from `include/moe/Runtime/cuda`, and every choice the code generator
    makes for it is a typed attribute: the GEMM family (wgmma or mma.sync),
    tile shape, pipeline stages and epilogue, split-K per range of rows, the
    tile map's chunking (block order), whether a GEMM gathers its rows, the
    statistics chunk, the grid policy. Choices that depend on the runtime
    token count are tables of regimes (`#moegpu.regimes`).

    `moegpu-configure{target=...}` makes these ops from `moe` ops; the module
    then carries `moegpu.target`. The ops are in destination-passing style:
    on tensors every result is written into its `outs` operand, so one-shot
    bufferization turns the intermediates into buffers, which
    `moegpu-plan-memory` places in one workspace by live range; on memrefs
    they have no results. Sizes that depend on the token count are `index`
    operands computed from the launcher's `num_tokens` argument.

    A function of moegpu ops is a launcher: its arguments carry
    `moegpu.param` attributes (name, role and rows, the ABI the header and
    the JSON manifest state), and `convert-moegpu-to-emitc` turns it into an
    `extern "C"` host function. Limits of the kernels come from
    `KernelLimits.td`, as do the targets.
  }];
  let dependentDialects = [
    "::mlir::moe::MoeDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect",
  ];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The module attribute naming the target (#moegpu.target).
    static constexpr ::llvm::StringLiteral kTargetAttrName = "moegpu.target";
    /// The argument attribute of a launcher (#moegpu.param).
    static constexpr ::llvm::StringLiteral kParamAttrName = "moegpu.param";
    /// A launcher compiled for a fixed token count (i64).
    static constexpr ::llvm::StringLiteral kStaticTokensAttrName =
        "moegpu.static_tokens";
    /// The most tokens a launcher takes: every tensor parameter and
    /// workspace buffer stays within moe::kMaxTensorBytes (i64).
    static constexpr ::llvm::StringLiteral kMaxTokensAttrName =
        "moegpu.max_tokens";
    /// The launcher whose workspace size a function computes (symbol).
    static constexpr ::llvm::StringLiteral kWorkspaceSizeOfAttrName =
        "moegpu.workspace_size_of";
    /// The workspace plan of a launcher (#moegpu.workspace).
    static constexpr ::llvm::StringLiteral kWorkspaceAttrName =
        "moegpu.workspace";
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def MoeGPU_GemmFamily : I32EnumAttr<"GemmFamily",
    "tensor-core GEMM kernel family", [
      I32EnumAttrCase<"wgmma", 0>,
      I32EnumAttrCase<"mma_sync", 1>
    ]> {
  let cppNamespace = "::mlir::moegpu";
  let genSpecializedAttr = 0;
}

def MoeGPU_GemmStore : I32EnumAttr<"GemmStore",
    "how a GEMM's outputs leave the block", [
      I32EnumAttrCase<"registers", 0>,
      I32EnumAttrCase<"tma", 1>
    ]> {
  let cppNamespace = "::mlir::moegpu";
  let genSpecializedAttr = 0;
}

def MoeGPU_GemmEpilogue : I32EnumAttr<"GemmEpilogue",
    "what a GEMM does with its f32 sums", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"silu_mul", 1>
    ]> {
  let cppNamespace = "::mlir::moegpu";
  let genSpecializedAttr = 0;
}

def MoeGPU_GridPolicy : I32EnumAttr<"GridPolicy",
    "how a kernel's grid is sized", [
      I32EnumAttrCase<"persistent", 0>,
      I32EnumAttrCase<"exact", 1>
    ]> {
  let cppNamespace = "::mlir::moegpu";
  let genSpecializedAttr = 0;
}

def MoeGPU_ParamRole : I32EnumAttr<"ParamRole",
    "what a launcher parameter is", [
      I32EnumAttrCase<"input", 0>,
      I32EnumAttrCase<"output", 1>,
      I32EnumAttrCase<"workspace", 2>,
      I32EnumAttrCase<"num_tokens", 3>,
      I32EnumAttrCase<"stream", 4>
    ]> {
  let cppNamespace = "::mlir::moegpu";
  let genSpecializedAttr = 0;
}

#endif // MOE_DIALECT_MOEGPU_IR_MOEGPUBASE_TD
