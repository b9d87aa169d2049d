//===- MoeGPUAttrs.td - moegpu dialect attributes ----------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOEGPU_IR_MOEGPUATTRS_TD
#define MOE_DIALECT_MOEGPU_IR_MOEGPUATTRS_TD

include "moe/Dialect/MoeGPU/IR/MoeGPUBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

class MoeGPU_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<MoeGPU_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// Enum attributes print as `#moegpu.grid<persistent>` on their own and as
// bare keywords inside ops (`grid = persistent`).
class MoeGPU_EnumAttr<EnumAttrInfo info, string name>
    : EnumAttr<MoeGPU_Dialect, info, name> {
  let assemblyFormat = "`<` $value `>`";
}
def MoeGPU_GemmFamilyAttr : MoeGPU_EnumAttr<MoeGPU_GemmFamily, "gemm_family">;
def MoeGPU_GemmStoreAttr : MoeGPU_EnumAttr<MoeGPU_GemmStore, "gemm_store">;
def MoeGPU_GemmEpilogueAttr
    : MoeGPU_EnumAttr<MoeGPU_GemmEpilogue, "gemm_epilogue">;
def MoeGPU_GridPolicyAttr : MoeGPU_EnumAttr<MoeGPU_GridPolicy, "grid">;

def MoeGPU_TargetAttr : MoeGPU_Attr<"Target", "target"> {
  let summary = "the GPU a module is configured for";
  let description = [{
    One of the targets of `KernelLimits.td` (`sm_80`, `sm_86`, `sm_89`,
    `sm_90`, `sm_90a`): its compute capability, whether its code runs only
    on that capability (`a` targets), whether it has wgmma and TMA, and the
    most shared memory a block may use. `moegpu-configure` sets
    `moegpu.target` on the module.

    ```mlir
    module attributes {moegpu.target = #moegpu.target<"sm_90a">} { ... }
    ```
  }];
  let parameters = (ins StringRefParameter<"target name">:$name);
  let assemblyFormat = "`<` $name `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The target's entry of KernelLimits.td (never null once verified).
    const ::moe::limits::Target *getInfo() const;
    bool hasWgmma() const { return getInfo()->wgmma; }
  }];
}

def MoeGPU_RegimesAttr : MoeGPU_Attr<"Regimes", "regimes"> {
  let summary = "a decision over ranges of a runtime row count";
  let description = [{
    `[b0 -> v0, b1 -> v1, ...], otherwise`: a row count r selects the value
    of the first bound it does not exceed (r <= bi), and `otherwise` past
    the last bound. The bounds increase strictly. The launcher evaluates the
    table at run time; the compiler sizes buffers from it.

    ```mlir
    // split K 8 ways up to 128 rows, 4 ways up to 256, 2 up to 512, else not
    #moegpu.regimes<[128 -> 8, 256 -> 4, 512 -> 2], 1>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$bounds,
                        ArrayRefParameter<"int64_t">:$values,
                        "int64_t":$otherwise);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The value for `rows` rows.
    int64_t lookup(int64_t rows) const;
    /// The largest value of the table.
    int64_t getMaxValue() const;
  }];
}

def MoeGPU_GemmConfigAttr : MoeGPU_Attr<"GemmConfig", "gemm"> {
  let summary = "how a grouped GEMM runs";
  let description = [{
    * `family`: `wgmma` (sm_90a: TMA loads into a ring of `stages` shared
      buffers, one producer warpgroup, one consumer warpgroup per 64 rows,
      `wgmma.mma_async`; blocks run the tile map's chunks together) or
      `mma_sync` (any sm_80+: cp.async, ldmatrix, `mma.sync.m16n8k16`).
    * `tile = [rows, weight rows, k]`: the block tile. wgmma takes
      [128, 256, 64] or [256, 128, 64]; mma_sync [128, 128, 32]. For a
      gate/up GEMM half the weight rows are gate rows and half the matching
      up rows.
    * `stages`: pipeline depth (wgmma: as many as fit the target's shared
      memory, at most 5; mma_sync: 3).
    * `store`: `tma` (bf16 outputs through shared memory and TMA stores, 64
      rows at a time where all 64 belong to the tile) or `registers`.
    * `split_k`: regimes over the GEMM's rows giving the number of K splits
      (single-expert wgmma GEMMs only); each split adds its K range into f32
      partial sums, a second kernel adds the splits in order.

    ```mlir
    #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma>
    #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma,
                 split_k = #moegpu.regimes<[128 -> 8, 256 -> 4], 1>>
    #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers>
    ```
  }];
  let parameters = (ins
    EnumParameter<MoeGPU_GemmFamily>:$family,
    ArrayRefParameter<"int64_t">:$tile,
    "int64_t":$stages,
    EnumParameter<MoeGPU_GemmStore>:$store,
    OptionalParameter<"::mlir::moegpu::RegimesAttr">:$split_k
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getTileRows() const { return getTile()[0]; }
    int64_t getTileCols() const { return getTile()[1]; }
    int64_t getTileK() const { return getTile()[2]; }
  }];
}

def MoeGPU_ParamAttr : MoeGPU_Attr<"Param", "param"> {
  let summary = "a launcher parameter: role, name, rows";
  let description = [{
    The argument attribute `moegpu.param` of a launcher function: the
    parameter's role (`input`, `output`, `workspace`, `num_tokens`,
    `stream`), its name in the emitted C prototype and the manifest, and,
    for a tensor whose leading dimension is dynamic, that dimension as an
    affine function of the token count (`s0`). Once the launcher is EmitC
    (a pointer), `type` keeps the tensor's shape and element type for the
    header and the manifest.

    ```mlir
    %rows: tensor<?x7168xbf16> {moegpu.param = #moegpu.param<input, "expert_out",
                                rows = affine_map<()[s0] -> (s0 * 8)>>}
    ```
  }];
  let parameters = (ins EnumParameter<MoeGPU_ParamRole>:$role,
                        StringRefParameter<"parameter name">:$name,
                        OptionalParameter<"::mlir::AffineMapAttr">:$rows,
                        OptionalParameter<"::mlir::Type">:$type);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def MoeGPU_BufferAttr : MoeGPU_Attr<"Buffer", "buffer"> {
  let summary = "one intermediate of a workspace plan";
  let description = [{
    `name`: the kernel op and result it holds; `bytes`: its size, a multiple
    of the workspace alignment, as an expression over `num_tokens` in the
    grammar of docs/abi.md; `after`: the earlier buffers of the plan whose
    lifetimes overlap it (it is placed above all of them; absent: none).

    ```mlir
    #moegpu.buffer<"k3.permute.rows", "num_tokens * 8 * 14336">
    #moegpu.buffer<"k5.grouped_gemm.out", "num_tokens * 8 * 4096", after = [0, 1]>
    ```
  }];
  let parameters = (ins StringRefParameter<"buffer name">:$name,
                        StringRefParameter<"size expression">:$bytes,
                        OptionalArrayRefParameter<"int64_t">:$after);
  let assemblyFormat = [{
    `<` $name `,` $bytes (`,` `after` `=` `[` $after^ `]`)? `>`
  }];
}

def MoeGPU_WorkspaceAttr : MoeGPU_Attr<"Workspace", "workspace"> {
  let summary = "the workspace plan of a launcher";
  let description = [{
    Set by `moegpu-plan-memory` on a launcher: the intermediates in the
    order they were placed. Buffer i starts at
    max(0, offset[j] + bytes[j] for j in after[i]); the workspace is the
    largest end. `function` is the `<launcher>_workspace_size` function.
  }];
  let parameters = (ins StringRefParameter<"size function">:$function,
                        "int64_t":$alignment,
                        OptionalArrayRefParameter<"::mlir::moegpu::BufferAttr">:$buffers);
  let assemblyFormat = [{
    `<` $function `,` `alignment` `=` $alignment (`,` `[` $buffers^ `]`)? `>`
  }];
  let genVerifyDecl = 1;
}

#endif // MOE_DIALECT_MOEGPU_IR_MOEGPUATTRS_TD
