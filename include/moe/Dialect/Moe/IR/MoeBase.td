//===- MoeBase.td - moe dialect definition -----------------*- tablegen -*-===//
//
// The moe dialect: DeepSeek-style Mixture-of-Experts routing, dispatch and
// load balancing at the tensor level.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_MOE_IR_MOEBASE_TD
#define MOE_DIALECT_MOE_IR_MOEBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Moe_Dialect : Dialect {
  let name = "moe";
  let cppNamespace = "::mlir::moe";
  let summary = "Mixture-of-Experts routing, dispatch and load balancing";
  let description = [{
    The `moe` dialect states what a DeepSeek-style Mixture-of-Experts layer
    does: router logits (`moe.gate`), affinity scores (`moe.score`), group- or
    node-limited top-k selection with an aux-loss-free bias (`moe.route`),
    the dispatch layout over a cluster topology (`moe.dispatch_layout`),
    expert-major permutation with optional capacity (`moe.permute`), the
    grouped SwiGLU expert FFN (`moe.expert_ffn`), the weighted combine
    (`moe.combine`), the load-balancing losses and their gradients
    (`moe.balance_loss`, `moe.balance_loss_grad`), per-expert token counts
    (`moe.expert_counts`) and the bias update (`moe.bias_update`). `moe.layer`
    holds a whole layer; `moe-expand-layer` rewrites it into the other ops.

    All values are builtin tensors; configuration lives in attributes. The
    exact semantics (tie-breaking, masking, normalisation, the loss formulas)
    are written in each op's description and, all together with the
    sources they follow, in docs/semantics.md.
  }];
  // Folders materialise constants with arith.constant.
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Moe_ScoreFunc : I32EnumAttr<"ScoreFunc",
    "affinity function applied to the router logits", [
      I32EnumAttrCase<"sigmoid", 0>,
      I32EnumAttrCase<"softmax", 1>
    ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def Moe_GroupScoreKind : I32EnumAttr<"GroupScoreKind",
    "how an expert group is scored for the group limit", [
      I32EnumAttrCase<"max", 0>,
      I32EnumAttrCase<"topk_sum", 1>
    ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def Moe_LossKind : I32EnumAttr<"LossKind", "load-balancing loss", [
      I32EnumAttrCase<"sequence", 0>,
      I32EnumAttrCase<"expert", 1>,
      I32EnumAttrCase<"device", 2>,
      I32EnumAttrCase<"comm", 3>
    ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def Moe_CountSource : I32EnumAttr<"CountSource",
    "which selection the balance-loss counts use", [
      I32EnumAttrCase<"selected", 0>,
      I32EnumAttrCase<"topk", 1>
    ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def Moe_DropPolicy : I32EnumAttr<"DropPolicy",
    "which assignments an expert keeps when over capacity", [
      I32EnumAttrCase<"probs", 0>,
      I32EnumAttrCase<"position", 1>
    ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

// Every shaped operand and result of an op within moe::kMaxTensorBytes
// (MoeTraits.h); the moe and moegpu ops carry it.
def Moe_SizesFit : NativeOpTrait<"SizesFit"> {
  let cppNamespace = "::mlir::OpTrait::moe";
}

#endif // MOE_DIALECT_MOE_IR_MOEBASE_TD
