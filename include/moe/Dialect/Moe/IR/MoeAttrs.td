//===- MoeAttrs.td - moe dialect attributes ----------------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOEATTRS_TD
#define MOE_DIALECT_MOE_IR_MOEATTRS_TD

include "moe/Dialect/Moe/IR/MoeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

class Moe_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Moe_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// Enum attributes print as `#moe.score_func<sigmoid>` on their own; op
// formats print them as bare keywords through `custom<Keyword>`
// (`moe.score sigmoid %z`).
class Moe_EnumAttr<EnumAttrInfo info, string name>
    : EnumAttr<Moe_Dialect, info, name> {
  let assemblyFormat = "`<` $value `>`";
}
def Moe_ScoreFuncAttr : Moe_EnumAttr<Moe_ScoreFunc, "score_func">;
def Moe_DropPolicyAttr : Moe_EnumAttr<Moe_DropPolicy, "drop_policy">;

def Moe_GroupScoreAttr : Moe_Attr<"GroupScore", "group_score"> {
  let summary = "group-score rule of group-limited routing";
  let description = [{
    How a group of experts is scored when only `group_topk` groups may be
    used by a token:

    * `max`: the largest (biased) selection score in the group
      (DeepSeek-V2 `group_limited_greedy`, V3 reference code without bias).
    * `topk_sum<n>`: the sum of the `n` largest (biased) selection scores in
      the group (DeepSeek-V3 `noaux_tc` with n = 2, Megatron with
      n = k / group_topk).

    `topk_sum<1>` selects exactly the groups that `max` selects. On its own
    the attribute reads `#moe.group_score<topk_sum<2>>`; op formats print the
    bare rule.
  }];
  let parameters = (ins "GroupScoreKind":$kind, "int64_t":$n);
  let hasCustomAssemblyFormat = 1;
  // Lets DefaultValuedAttr take an expression that builds the attribute.
  let constBuilderCall = "$0";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static GroupScoreAttr getMax(::mlir::MLIRContext *ctx) {
      return get(ctx, GroupScoreKind::max, 1);
    }
    static GroupScoreAttr getTopkSum(::mlir::MLIRContext *ctx, int64_t n) {
      return get(ctx, GroupScoreKind::topk_sum, n);
    }
    /// Number of per-group scores that are summed (1 for `max`).
    int64_t getCount() const { return getKind() == GroupScoreKind::max ? 1 : getN(); }
  }];
}

def Moe_TopologyAttr : Moe_Attr<"Topology", "topology"> {
  let summary = "expert placement over nodes and GPUs";
  let description = [{
    A cluster of `nodes` × `gpus_per_node` ranks, each hosting
    `experts_per_gpu` routed experts. Placement is contiguous:
    `rank(e) = e / experts_per_gpu`, `node(r) = r / gpus_per_node`.

    `node_limit`, when given, is the most nodes a token may be sent to
    (DeepSeek-V3: 4). Ops that route under this topology must guarantee it:
    each expert group has to lie inside one node and a token may use at most
    `node_limit` groups.

    ```mlir
    #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>
    ```
  }];
  let parameters = (ins "int64_t":$nodes, "int64_t":$gpus_per_node,
                        "int64_t":$experts_per_gpu,
                        DefaultValuedParameter<"int64_t", "0">:$node_limit);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumRanks() const { return getNodes() * getGpusPerNode(); }
    int64_t getNumExperts() const { return getNumRanks() * getExpertsPerGpu(); }
    int64_t getExpertsPerNode() const {
      return getGpusPerNode() * getExpertsPerGpu();
    }
  }];
}

def Moe_BalanceLossAttr : Moe_Attr<"BalanceLoss", "loss"> {
  let summary = "configuration of one load-balancing loss";
  let description = [{
    `kind alpha = α [counts = selected|topk] [seq_len = S] [devices = D]
    [device_limit = M]`

    * `kind`: `sequence` (DeepSeek-V3 complementary sequence-wise loss, P on
      scores normalised over all experts), `expert` (DeepSeek-V2 expert-level
      loss, P on the raw scores), `device` (V2 device-level), `comm` (V2
      communication).
    * `alpha`: the coefficient, ≥ 0.
    * `counts`: which selection defines f: `selected` (the routed ids, the
      default; HF DeepSeek-V2) or `topk` (the plain top-k of the unbiased
      scores without group limit; the literal V3 formula and Megatron).
    * `seq_len`: tokens per sequence; tokens are sequence-major and the loss is
      the mean of the per-sequence losses. Without it the whole batch is one
      sequence.
    * `devices`: D, the number of devices the experts are split over
      (contiguously); required by `device` and `comm`.
    * `device_limit`: M, the most devices a token is sent to; required by
      `comm`.
  }];
  let parameters = (ins "LossKind":$kind, APFloatParameter<"coefficient (f32)">:$alpha,
                        "CountSource":$counts, "int64_t":$seq_len,
                        "int64_t":$devices, "int64_t":$device_limit);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

#endif // MOE_DIALECT_MOE_IR_MOEATTRS_TD
