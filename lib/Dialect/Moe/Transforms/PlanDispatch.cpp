//===- PlanDispatch.cpp - node-limited dispatch planning ------------------===//
//
// Node-limited routing exists to cut inter-node traffic: a token crosses the
// link once per node it reaches and is fanned out inside the node. This
// pass checks that a routing guarantees its topology's node limit, inserts
// the dispatch layout (the per-rank and per-node send counts) and reports
// the planned traffic.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/Moe/IR/MoeVerification.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEPLANDISPATCH
#include "moe/Dialect/Moe/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {
/// The most nodes a token of this routing can reach, and why.
struct Reach {
  int64_t nodes;
  std::string reason;
};
} // namespace

static Reach nodeReach(RouteOp route, TopologyAttr topo) {
  int64_t k = route.getKAttr().getInt(),
          groups = route.getGroupsAttr().getInt();
  int64_t groupTopk = route.getGroupTopkAttr().getInt(),
          nodes = topo.getNodes();
  int64_t bound = std::min(k, nodes);
  if (groups > 1 && groups % nodes == 0 && groupTopk < bound)
    return {groupTopk,
            llvm::formatv("group_topk = {0} of {1} groups, {2} per node",
                          groupTopk, groups, groups / nodes)
                .str()};
  if (groups > 1 && nodes % groups == 0 && groupTopk * (nodes / groups) < bound)
    return {groupTopk * (nodes / groups),
            llvm::formatv("group_topk = {0} of {1} groups, each over {2} nodes",
                          groupTopk, groups, nodes / groups)
                .str()};
  return {bound, groups > 1
                     ? llvm::formatv("k = {0}; the {1} groups do not "
                                     "limit the nodes",
                                     k, groups)
                           .str()
                     : llvm::formatv("k = {0}, no group limit", k).str()};
}

/// The row size in bytes, from a moe.permute of the ids, or 0 (no permute,
/// or a dynamic hidden size).
static int64_t rowBytes(RouteOp route) {
  for (Operation *user : route.getIds().getUsers())
    if (auto permute = dyn_cast<PermuteOp>(user)) {
      RankedTensorType x = permute.getInput().getType();
      if (x.isDynamicDim(1))
        return 0;
      // The verifier bounds the tensor's bytes, so one row's are exact. An
      // e4m3 row travels with its f32 group scales.
      int64_t bytes = x.getDimSize(1) * elementBytes(x.getElementType());
      if (Value scales = permute.getScales())
        bytes += staticBytes(
                     cast<ShapedType>(scales.getType()).getShape().drop_front(),
                     getElementTypeOrSelf(scales.getType()))
                     .value_or(0);
      return bytes;
    }
  return 0;
}

namespace {
struct MoePlanDispatchPass
    : moe::impl::MoePlanDispatchBase<MoePlanDispatchPass> {
  using Base::Base;

  /// The route's topology: its attribute, else the pass options.
  FailureOr<TopologyAttr> topologyOf(RouteOp route) {
    if (auto topo = route->getAttrOfType<TopologyAttr>(kTopologyAttrName))
      return topo;
    if (route->hasAttr(kTopologyAttrName))
      return route.emitOpError()
             << "'" << kTopologyAttrName << "' must be a #moe.topology";
    if (nodes <= 0)
      return TopologyAttr();
    int64_t ranks = nodes * std::max<int64_t>(gpusPerNode, 1);
    int64_t numExperts = route.getNumExperts();
    if (gpusPerNode <= 0 || numExperts % ranks != 0)
      return route.emitOpError()
             << "moe-plan-dispatch options place " << numExperts
             << " experts on " << static_cast<int64_t>(nodes) << " nodes x "
             << static_cast<int64_t>(gpusPerNode)
             << " GPUs: gpus-per-node must be positive and the ranks must "
                "divide the experts";
    if (nodeLimit < 0 || nodeLimit > nodes)
      return route.emitOpError()
             << "moe-plan-dispatch option node-limit ("
             << static_cast<int64_t>(nodeLimit) << ") must be in [0, "
             << static_cast<int64_t>(nodes) << "]";
    return TopologyAttr::get(&getContext(), nodes, gpusPerNode,
                             numExperts / ranks, nodeLimit);
  }

  LogicalResult plan(RouteOp route, SmallVectorImpl<Value> &exported) {
    FailureOr<TopologyAttr> maybeTopo = topologyOf(route);
    if (failed(maybeTopo))
      return failure();
    TopologyAttr topo = *maybeTopo;
    if (!topo)
      return success();
    int64_t numExperts = route.getNumExperts();
    if (topo.getNumExperts() != numExperts)
      return route.emitOpError()
             << "topology holds " << topo.getNumExperts()
             << " experts but the routing chooses among " << numExperts;
    Reach reach = nodeReach(route, topo);
    int64_t limit = topo.getNodeLimit();
    if (limit && reach.nodes > limit)
      return route.emitOpError()
             << "does not guarantee the topology's node_limit (" << limit
             << "): a token may reach " << reach.nodes << " of the "
             << topo.getNodes() << " nodes (" << reach.reason
             << "); route with 'groups' a multiple of the nodes and "
                "'group_topk' <= "
             << limit;

    // The layout op, unless one with this topology is there.
    DispatchLayoutOp layout;
    for (Operation *user : route.getIds().getUsers())
      if (auto existing = dyn_cast<DispatchLayoutOp>(user))
        if (existing.getTopology() == topo)
          layout = existing;
    if (!layout) {
      OpBuilder b(route->getContext());
      b.setInsertionPointAfter(route);
      Type i32 = b.getI32Type(), i1 = b.getI1Type();
      auto idsType = route.getIds().getType();
      auto counts = [&](int64_t n) { return RankedTensorType::get({n}, i32); };
      layout = DispatchLayoutOp::create(
          b, route.getLoc(), counts(numExperts), counts(topo.getNumRanks()),
          counts(topo.getNodes()),
          RankedTensorType::get({idsType.getDimSize(0), topo.getNumRanks()},
                                i1),
          route.getIds(), topo);
    }
    if (returnLayout)
      exported.append({layout.getTokensPerExpert(), layout.getTokensPerRank(),
                       layout.getTokensPerNode(), layout.getIsTokenInRank()});

    // The traffic: rows a token sends to nodes (its own included).
    int64_t k = route.getKAttr().getInt();
    int64_t unlimited = std::min(k, topo.getNodes());
    int64_t ranks = std::min(
        k, std::min(topo.getNumRanks(), reach.nodes * topo.getGpusPerNode()));
    int64_t bytes = rowBytes(route);
    int64_t tokens = route.getIds().getType().getDimSize(0);
    auto amount = [&](int64_t rows) {
      std::string text = std::to_string(rows) + " rows";
      // Sizes near the bound can overflow rows x bytes: then rows only.
      if (std::optional<int64_t> total = checkedMul(rows, bytes);
          bytes && total)
        text += " (" + std::to_string(*total) + " bytes)";
      return text;
    };
    std::string text = llvm::formatv(
        "dispatch plan on {0} nodes x {1} GPUs x {2} experts: a token reaches "
        "at most {3} nodes ({4}) and {5} GPUs; per token it sends {6} to "
        "nodes with the limit, {7} node-deduplicated without it, {8} "
        "once per expert",
        topo.getNodes(), topo.getGpusPerNode(), topo.getExpertsPerGpu(),
        reach.nodes, reach.reason, ranks, amount(reach.nodes),
        amount(unlimited), amount(k));
    if (!ShapedType::isDynamic(tokens))
      text += llvm::formatv("; for the {0} tokens: {1} vs {2} vs {3}", tokens,
                            amount(tokens * reach.nodes),
                            amount(tokens * unlimited), amount(tokens * k))
                  .str();
    route.emitRemark(text);
    return success();
  }

  void runOnOperation() override {
    for (func::FuncOp func : getOperation().getOps<func::FuncOp>())
      if (failed(planFunction(func)))
        return signalPassFailure();
  }

  LogicalResult planFunction(func::FuncOp func) {
    SmallVector<RouteOp> routes;
    func.walk([&](RouteOp route) { routes.push_back(route); });
    SmallVector<Value> exported;
    bool failedAny = false;
    for (RouteOp route : routes)
      failedAny |= failed(plan(route, exported));
    if (failedAny)
      return failure();
    if (exported.empty())
      return success();
    if (!func.getBody().hasOneBlock())
      return func.emitOpError()
             << "return-layout needs a function with one block";
    // New results would break every call of the function.
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(func, getOperation());
        !uses || !uses->empty()) {
      InFlightDiagnostic diag =
          func.emitOpError() << "return-layout appends results to a function "
                                "that is referenced: return the layout from "
                                "an entry point";
      if (uses && !uses->empty())
        diag.attachNote(uses->begin()->getUser()->getLoc()) << "used here";
      return diag;
    }
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    SmallVector<Value> operands(ret.getOperands());
    operands.append(exported);
    OpBuilder b(ret);
    func::ReturnOp::create(b, ret.getLoc(), operands);
    ret.erase();
    SmallVector<Type> results(func.getResultTypes());
    for (Value v : exported)
      results.push_back(v.getType());
    func.setType(b.getFunctionType(func.getArgumentTypes(), results));
    return success();
  }
};
} // namespace
