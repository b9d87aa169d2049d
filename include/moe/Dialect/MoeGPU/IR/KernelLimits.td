//===- KernelLimits.td - limits and parameters of the CUDA kernels -*- tablegen -*-===//
//
// The one description of what the hand-written CUDA kernels
// (include/moe/Runtime/cuda/*.cuh) can serve and of the fixed parameters
// they are built with, and of the targets the compiler configures for.
// `moe-tblgen -gen-kernel-limits` turns it into
// include/moe/Runtime/cuda/KernelLimits.h, which the kernels include (their
// constants and static_asserts) and the compiler includes (its checks and
// diagnostics name the limit and say why it exists). No constant is
// written twice: change it here and regenerate (scripts/update-docs.sh).
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_MOEGPU_IR_KERNELLIMITS_TD
#define MOE_DIALECT_MOEGPU_IR_KERNELLIMITS_TD

// A limit or fixed parameter of a kernel. `Kind` says how the compiler
// checks a value against it: "max" (at most Value), "multiple" (a multiple
// of Value) or "param" (a parameter the kernels are built with).
class KernelLimit<int value, string kind, string summary> {
  int Value = value;
  string Kind = kind;
  string Summary = summary;
}
class KernelMax<int value, string summary>
    : KernelLimit<value, "max", summary>;
class KernelMultiple<int value, string summary>
    : KernelLimit<value, "multiple", summary>;
class KernelParam<int value, string summary>
    : KernelLimit<value, "param", summary>;

//===----------------------------------------------------------------------===//
// Common
//===----------------------------------------------------------------------===//

def WarpSize : KernelParam<32, "threads per warp">;
def WorkspaceAlignment : KernelParam<256,
    "bytes each workspace buffer is aligned to">;
def VectorBytes : KernelMultiple<16,
    "bytes of the vector loads and stores of rows (rows are whole uint4s)">;

//===----------------------------------------------------------------------===//
// Routing (Routing.cuh) and its statistics (Loss.cuh)
//===----------------------------------------------------------------------===//

def RouteMaxExperts : KernelMax<512,
    "experts the warp-per-token routing kernel holds (16 scores per lane)">;
def RouteMaxK : KernelMax<32,
    "slots per token of the routing kernel (lane k writes slot k)">;
def RouteMaxGroups : KernelMax<32,
    "groups of the routing kernel (the chosen groups are a 32-bit mask)">;
def RouteMaxGroupSum : KernelMax<4,
    "n of a topk_sum<n> group score (a top-n merge of sorted lists)">;
def RouteWarpsPerBlock : KernelParam<8,
    "warps (tokens in flight) per block of the routing kernel">;
def RouteStatsChunk : KernelParam<64,
    "tokens per statistics row of the routing kernel, when the sequence "
    "length allows (else its gcd with it)">;
def LossMaxDevices : KernelMax<32, "devices of a device or comm loss">;
def LossBlockSize : KernelParam<256, "threads per block of the loss kernels">;
def BiasUpdateBlockSize : KernelParam<256,
    "threads of the one-block bias update">;
def LossGradMaxExperts : KernelMax<512,
    "experts of the loss-gradient kernel (16 per lane of a warp)">;

//===----------------------------------------------------------------------===//
// Dispatch (Dispatch.cuh)
//===----------------------------------------------------------------------===//

def LayoutMaxSlots : KernelMax<64,
    "slots per token of the dispatch layout (per-token arrays in registers)">;
def LayoutBlockSize : KernelParam<256,
    "threads (tokens) per block of the dispatch layout">;
def PermuteMaxExperts : KernelMax<1024,
    "experts of the permute (the scan has one thread per expert)">;
def PermuteBlockSize : KernelParam<256,
    "threads per block of the permute kernels">;
def PermuteAssignmentsPerBlock : KernelParam<512,
    "(token, slot) assignments ranked per block of the permute's rank kernel">;
def PermuteFusedPlaceBlocks : KernelParam<64,
    "most rank blocks for which the permute scans and places in one kernel">;
def PermuteScanThreads : KernelParam<1024,
    "threads of the permute's scan kernel">;
def CombineBlockSize : KernelParam<256,
    "threads per block of the combine (a block takes a token's chunk of 8 "
    "columns per thread)">;
def CombineMaxSlots : KernelMax<256,
    "slots per token of the combine (a thread loads each slot's map)">;
def CombineElementsPerThread : KernelMultiple<8,
    "elements of a row each combine thread owns (the hidden size is a "
    "multiple)">;

//===----------------------------------------------------------------------===//
// Grouped GEMMs (Experts.cuh, ExpertsSm90.cuh)
//===----------------------------------------------------------------------===//

def GemmMaxExperts : KernelMax<1024,
    "experts of a grouped GEMM (the tile map has one thread per expert)">;
def GemmRowTile : KernelParam<128,
    "rows per tile of the tile map and of both GEMM families">;
def GemmTileMapThreads : KernelParam<1024,
    "threads of the tile-map kernel">;
def GemmTileChunk : KernelParam<8,
    "row tiles of one expert the wgmma GEMM runs together (a chunk)">;
def GemmMaxTileChunk : KernelMax<15,
    "row tiles per chunk (the tile map stores the chunk in 4 bits)">;
def GemmRowTileBytes : KernelParam<16,
    "bytes of a tile-map entry (expert, begin, end, chunk)">;
def GemmMaxRowTileSlots : KernelMax<65535,
    "tile slots of the mma.sync GEMM's grid (its y dimension)">;
def MmaTileN : KernelParam<128,
    "weight rows per block of the mma.sync GEMM (gate/up: 64 + 64)">;
def MmaTileK : KernelMultiple<32,
    "reduction step of the mma.sync GEMM (the reduction is a multiple)">;
def MmaStages : KernelParam<3, "cp.async stages of the mma.sync GEMM">;
def MmaThreads : KernelParam<256, "threads per block of the mma.sync GEMM">;
def MmaDualColumns : KernelMultiple<64,
    "output columns per block of the mma.sync gate/up GEMM (the "
    "intermediate size is a multiple)">;
def WgmmaTileK : KernelMultiple<64,
    "reduction step of the wgmma GEMM (a 128-byte swizzled row of bf16)">;
def WgmmaTileElements : KernelParam<32768,
    "accumulators per wgmma block (rows x weight rows: 128 x 256 or "
    "256 x 128)">;
def WgmmaMaxStages : KernelMax<5, "TMA stages of the wgmma GEMM">;
def WgmmaSharedSlack : KernelParam<1104,
    "shared bytes of a wgmma block beside its stages (1024 to align the "
    "dynamic allocation, 80 of barriers)">;
def Fp8Block : KernelMultiple<128,
    "FP8 block: 128x128 weight blocks, 128-wide activation groups and K "
    "steps of the FP8 GEMM (a 128-byte swizzled row of e4m3)">;
def Fp8TileRows : KernelParam<128,
    "rows per block of the FP8 GEMM (two consumer warpgroups of 64)">;
def Fp8TileCols : KernelParam<128,
    "weight rows per block of the FP8 GEMM's narrow tile (gate/up: 64 + 64), "
    "for down projections whose N is an odd multiple of 128">;
def Fp8WideTileCols : KernelParam<256,
    "weight rows per block of the FP8 GEMM's wide tile (gate/up: 128 + 128), "
    "the default: half the L2 traffic per flop of the A tiles">;
def Fp8MaxStages : KernelMax<8, "TMA stages of the FP8 GEMM">;
def ZeroTailBlockSize : KernelParam<256,
    "threads per block of the kernel that zeroes unowned expert rows">;
def SplitTargetBlocks : KernelParam<128,
    "blocks a split-K GEMM aims at: split while the blocks stay within it">;
def SplitMaxSplits : KernelMax<8, "splits of a split-K GEMM">;

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

// A GPU target of moegpu-configure: its compute capability, whether code
// for it runs only on that capability (an `a` target), whether it has
// wgmma and TMA (the sm_90a GEMM path), and the most shared memory a block
// may use.
class KernelTarget<string name, int major, int minor, bit archSpecific,
                   bit wgmma, int maxSharedBytes> {
  string Name = name;
  int Major = major;
  int Minor = minor;
  bit ArchSpecific = archSpecific;
  bit Wgmma = wgmma;
  int MaxSharedBytes = maxSharedBytes;
}

def TargetSm80 : KernelTarget<"sm_80", 8, 0, 0, 0, 166912>;
def TargetSm86 : KernelTarget<"sm_86", 8, 6, 0, 0, 101376>;
def TargetSm89 : KernelTarget<"sm_89", 8, 9, 0, 0, 101376>;
def TargetSm90 : KernelTarget<"sm_90", 9, 0, 0, 0, 232448>;
def TargetSm90a : KernelTarget<"sm_90a", 9, 0, 1, 1, 232448>;

#endif // MOE_DIALECT_MOEGPU_IR_KERNELLIMITS_TD
