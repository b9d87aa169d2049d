//===- PlanMemory.cpp - the moegpu-plan-memory pass -----------------------===//
//
// The allocations of a bufferized launcher become views into one workspace
// argument. Each buffer lives from its first to its last use in the
// launcher's straight-line body; buffers are placed largest first (at a
// reference token count), each above every earlier-placed buffer whose
// life overlaps its own. Offsets are computed at run time from num_tokens
// (max of ends), so the plan is valid for every token count, and
// `<launcher>_workspace_size` returns the largest end.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/Moe/IR/MoeVerification.h"
#include "moe/Dialect/MoeGPU/IR/KernelLimitChecks.h"
#include "moe/Dialect/MoeGPU/Transforms/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::moegpu {
#define GEN_PASS_DEF_MOEGPUPLANMEMORY
#include "moe/Dialect/MoeGPU/Transforms/Passes.h.inc"
} // namespace mlir::moegpu

using namespace mlir;
using namespace mlir::moegpu;
namespace limits = ::moe::limits;

//===----------------------------------------------------------------------===//
// Index expressions: evaluation at a token count and the manifest grammar
//===----------------------------------------------------------------------===//

using EvaluationCache = llvm::DenseMap<Value, FailureOr<int64_t>>;

static FailureOr<int64_t> evaluate(Value value, Value tokens, int64_t numTokens,
                                   EvaluationCache &cache);

/// The value of an index computation of the token count `tokens` at
/// `numTokens` tokens (the arith ops the configuration makes sizes with).
/// Sizes are DAGs (a running max reads the previous max twice): each value
/// is evaluated once, or the work doubles with every buffer.
static FailureOr<int64_t> evaluate(Value value, Value tokens,
                                   int64_t numTokens) {
  EvaluationCache cache;
  return evaluate(value, tokens, numTokens, cache);
}

static FailureOr<int64_t> evaluateOp(Operation *op, Value tokens,
                                     int64_t numTokens, EvaluationCache &cache);

static FailureOr<int64_t> evaluate(Value value, Value tokens, int64_t numTokens,
                                   EvaluationCache &cache) {
  if (value == tokens)
    return numTokens;
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  Operation *op = value.getDefiningOp();
  FailureOr<int64_t> result = op ? evaluateOp(op, tokens, numTokens, cache)
                                 : FailureOr<int64_t>(failure());
  cache.try_emplace(value, result);
  return result;
}

static FailureOr<int64_t> evaluateOp(Operation *op, Value tokens,
                                     int64_t numTokens,
                                     EvaluationCache &cache) {
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return i.getValue().getSExtValue();
    return failure();
  }
  SmallVector<int64_t> args;
  for (Value operand : op->getOperands()) {
    FailureOr<int64_t> v = evaluate(operand, tokens, numTokens, cache);
    if (failed(v))
      return failure();
    args.push_back(*v);
  }
  auto nonZero = [&](int64_t d) -> FailureOr<int64_t> {
    if (d == 0)
      return failure();
    return d;
  };
  // Overflow is a failure: sizes must be exact.
  auto exact = [](std::optional<int64_t> v) -> FailureOr<int64_t> {
    if (!v)
      return failure();
    return *v;
  };
  return llvm::TypeSwitch<Operation *, FailureOr<int64_t>>(op)
      .Case<arith::AddIOp>(
          [&](auto) { return exact(llvm::checkedAdd(args[0], args[1])); })
      .Case<arith::SubIOp>(
          [&](auto) { return exact(llvm::checkedSub(args[0], args[1])); })
      .Case<arith::MulIOp>(
          [&](auto) { return exact(llvm::checkedMul(args[0], args[1])); })
      .Case<arith::DivSIOp, arith::DivUIOp>([&](auto) -> FailureOr<int64_t> {
        if (failed(nonZero(args[1])))
          return failure();
        return args[0] / args[1];
      })
      .Case<arith::CeilDivSIOp>([&](auto) -> FailureOr<int64_t> {
        if (failed(nonZero(args[1])))
          return failure();
        return llvm::divideCeilSigned(args[0], args[1]);
      })
      .Case<arith::MinSIOp>([&](auto) { return std::min(args[0], args[1]); })
      .Case<arith::MaxSIOp>([&](auto) { return std::max(args[0], args[1]); })
      .Case<arith::SelectOp>([&](auto) { return args[0] ? args[1] : args[2]; })
      .Case<arith::CmpIOp>([&](arith::CmpIOp cmp) -> FailureOr<int64_t> {
        switch (cmp.getPredicate()) {
        case arith::CmpIPredicate::sle:
          return args[0] <= args[1];
        case arith::CmpIPredicate::slt:
          return args[0] < args[1];
        case arith::CmpIPredicate::sge:
          return args[0] >= args[1];
        case arith::CmpIPredicate::sgt:
          return args[0] > args[1];
        case arith::CmpIPredicate::eq:
          return args[0] == args[1];
        default:
          return failure();
        }
      })
      .Default([](Operation *) { return failure(); });
}

/// An index computation of the token count in the grammar of docs/abi.md
/// (`num_tokens`, integers, + - *, ceildiv, floordiv, max, min, select and
/// comparisons). `parenthesize` wraps sums and comparisons.
static FailureOr<std::string> print(Value value, Value tokens,
                                    bool parenthesize = false) {
  if (value == tokens)
    return std::string("num_tokens");
  Operation *op = value.getDefiningOp();
  if (!op)
    return failure();
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return std::to_string(i.getValue().getSExtValue());
    return failure();
  }
  auto operand = [&](unsigned i, bool paren) {
    return print(op->getOperand(i), tokens, paren);
  };
  auto binary = [&](StringRef sign, bool inner) -> FailureOr<std::string> {
    FailureOr<std::string> a = operand(0, inner), b = operand(1, true);
    if (failed(a) || failed(b))
      return failure();
    std::string text = *a + " " + sign.str() + " " + *b;
    return parenthesize && sign != "*" ? "(" + text + ")" : text;
  };
  auto call = [&](StringRef name) -> FailureOr<std::string> {
    std::string text = name.str() + "(";
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      FailureOr<std::string> a = operand(i, false);
      if (failed(a))
        return failure();
      text += (i ? ", " : "") + *a;
    }
    return text + ")";
  };
  return llvm::TypeSwitch<Operation *, FailureOr<std::string>>(op)
      .Case<arith::AddIOp>([&](auto) { return binary("+", false); })
      .Case<arith::SubIOp>([&](auto) { return binary("-", false); })
      .Case<arith::MulIOp>([&](auto) { return binary("*", true); })
      .Case<arith::CeilDivSIOp>([&](auto) { return call("ceildiv"); })
      .Case<arith::DivSIOp, arith::DivUIOp>(
          [&](auto) { return call("floordiv"); })
      .Case<arith::MinSIOp>([&](auto) { return call("min"); })
      .Case<arith::MaxSIOp>([&](auto) { return call("max"); })
      .Case<arith::SelectOp>([&](auto) { return call("select"); })
      .Case<arith::CmpIOp>([&](arith::CmpIOp cmp) -> FailureOr<std::string> {
        StringRef sign;
        switch (cmp.getPredicate()) {
        case arith::CmpIPredicate::sle:
          sign = "<=";
          break;
        case arith::CmpIPredicate::slt:
          sign = "<";
          break;
        case arith::CmpIPredicate::sge:
          sign = ">=";
          break;
        case arith::CmpIPredicate::sgt:
          sign = ">";
          break;
        case arith::CmpIPredicate::eq:
          sign = "==";
          break;
        default:
          return failure();
        }
        return binary(sign, false);
      })
      .Default([](Operation *) { return failure(); });
}

//===----------------------------------------------------------------------===//
// The plan
//===----------------------------------------------------------------------===//

namespace {
struct Buffer {
  memref::AllocOp alloc;
  std::string name;
  unsigned first = 0, last = 0; // live range: op positions in the block
  Value bytes;                  // aligned size, an index value
  int64_t reference = 0;        // bytes at the reference token count
  SmallVector<unsigned> after;  // placed earlier and overlapping (indices)
  Value offset;

  bool overlaps(const Buffer &other) const {
    return first <= other.last && other.first <= last;
  }
};

class LauncherPlan {
public:
  LauncherPlan(func::FuncOp func, BlockArgument tokens, int64_t reference)
      : func(func), tokens(tokens), reference(reference) {}

  LogicalResult run(bool printPlan);

private:
  LogicalResult collect();
  LogicalResult size(OpBuilder &b);
  void place(OpBuilder &b);
  LogicalResult rewrite(OpBuilder &b);
  LogicalResult bound();
  LogicalResult emitSizeFunction();
  void report();

  func::FuncOp func;
  BlockArgument tokens;
  int64_t reference;
  SmallVector<Buffer> buffers; // in placement order once placed
  Value total;
};
} // namespace

/// The kernel op and init a buffer is written as first, "k<i>.<op>.<init>"
/// with i the kernel's index in the launcher (as in the emitted kernel
/// names): "k1.route.ids".
static std::string bufferName(Value buffer, Operation *firstUser) {
  if (auto kernel = dyn_cast_or_null<KernelOpInterface>(firstUser)) {
    auto dps = cast<DestinationStyleOpInterface>(firstUser);
    SmallVector<StringRef> names = kernel.getInitNames();
    unsigned begin = dps.getDpsInits().getBeginOperandIndex();
    for (OpOperand &init : dps.getDpsInitsMutable())
      if (init.get() == buffer)
        return ("k" + Twine(kernelIndex(firstUser)) + "." +
                firstUser->getName().stripDialect() + "." +
                names[init.getOperandNumber() - begin])
            .str();
  }
  return firstUser ? firstUser->getName().getStringRef().str() : "unused";
}

LogicalResult LauncherPlan::collect() {
  Block &body = func.getBody().front();
  DenseMap<Operation *, unsigned> position;
  for (auto [i, op] : llvm::enumerate(body))
    position[&op] = i;
  WalkResult walk = func.walk([&](memref::AllocOp alloc) {
    if (alloc->getBlock() != &body) {
      alloc.emitOpError("is not in the launcher's body: the workspace plan "
                        "covers straight-line launchers only");
      return WalkResult::interrupt();
    }
    Buffer buffer;
    buffer.alloc = alloc;
    buffer.first = buffer.last = position[alloc];
    Operation *firstUser = nullptr;
    // Every use, also through views and casts of the buffer.
    SmallVector<Value> worklist = {alloc.getResult()};
    while (!worklist.empty()) {
      Value v = worklist.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *user = body.findAncestorOpInBlock(*use.getOwner());
        unsigned at = position[user];
        if (!firstUser || at < position[firstUser])
          firstUser = user;
        buffer.last = std::max(buffer.last, at);
        if (auto view = dyn_cast<ViewLikeOpInterface>(use.getOwner()))
          if (view.getViewSource() == v)
            for (Value r : use.getOwner()->getResults())
              worklist.push_back(r);
      }
    }
    if (firstUser)
      buffer.first = position[firstUser];
    buffer.name = bufferName(alloc.getResult(), firstUser);
    buffers.push_back(std::move(buffer));
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

/// The size computations go first in the launcher: they depend only on
/// the token count, and every offset needs every size.
LogicalResult LauncherPlan::size(OpBuilder &b) {
  Location loc = func.getLoc();
  Block &body = func.getBody().front();
  b.setInsertionPointToStart(&body);
  IRMapping hoisted;
  auto hoist = [&](Value v) -> FailureOr<Value> {
    if (v == tokens || hoisted.contains(v))
      return hoisted.lookupOrDefault(v);
    SetVector<Operation *> slice;
    BackwardSliceOptions options;
    options.inclusive = true;
    if (failed(getBackwardSlice(v, &slice, options)))
      return failure();
    for (Operation *op : slice) {
      if (!isa<arith::ArithDialect>(op->getDialect()))
        return failure();
      for (Value operand : op->getOperands())
        if (isa<BlockArgument>(operand) && operand != tokens)
          return failure();
      if (!hoisted.contains(op->getResult(0)))
        b.clone(*op, hoisted);
    }
    return hoisted.lookup(v);
  };
  int64_t align = limits::WorkspaceAlignment;
  for (Buffer &buffer : buffers) {
    MemRefType type = buffer.alloc.getType();
    // The static part of every buffer is bounded like a tensor, so its
    // bytes are exact (the input may be bufferized by hand).
    if (failed(mlir::moe::verifyTensorBytes(buffer.alloc, "a workspace buffer",
                                            type.getShape(),
                                            type.getElementType())))
      return failure();
    int64_t staticBytes =
        *mlir::moe::staticBytes(type.getShape(), type.getElementType());
    Value bytes;
    for (Value d : buffer.alloc.getDynamicSizes()) {
      FailureOr<Value> h = hoist(d);
      if (failed(h))
        return buffer.alloc.emitOpError(
            "has a size that is not computed from num_tokens alone");
      bytes = bytes ? Value(arith::MulIOp::create(b, loc, bytes, *h)) : *h;
    }
    if (!bytes) {
      int64_t aligned = llvm::alignTo(staticBytes, align);
      bytes = arith::ConstantIndexOp::create(b, loc, aligned);
    } else {
      if (staticBytes != 1)
        bytes = arith::MulIOp::create(
            b, loc, bytes, arith::ConstantIndexOp::create(b, loc, staticBytes));
      if (staticBytes % align != 0) {
        Value a = arith::ConstantIndexOp::create(b, loc, align);
        bytes = arith::MulIOp::create(
            b, loc, arith::CeilDivSIOp::create(b, loc, bytes, a), a);
      }
    }
    buffer.bytes = bytes;
    FailureOr<int64_t> at = evaluate(bytes, tokens, reference);
    if (failed(at))
      return buffer.alloc.emitOpError("has a size the plan cannot evaluate");
    buffer.reference = *at;
  }
  return success();
}

/// Largest first (ties: earlier first use), each above every earlier-placed
/// buffer it overlaps.
void LauncherPlan::place(OpBuilder &b) {
  Location loc = func.getLoc();
  llvm::stable_sort(buffers, [](const Buffer &a, const Buffer &b) {
    if (a.reference != b.reference)
      return a.reference > b.reference;
    return a.first < b.first;
  });
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  for (unsigned i = 0; i < buffers.size(); ++i) {
    Buffer &buffer = buffers[i];
    Value offset = zero;
    for (unsigned j = 0; j < i; ++j) {
      if (!buffer.overlaps(buffers[j]))
        continue;
      buffer.after.push_back(j);
      Value end =
          arith::AddIOp::create(b, loc, buffers[j].offset, buffers[j].bytes);
      offset = offset == zero
                   ? end
                   : Value(arith::MaxSIOp::create(b, loc, offset, end));
    }
    buffer.offset = offset;
    Value end = arith::AddIOp::create(b, loc, offset, buffer.bytes);
    total = total ? Value(arith::MaxSIOp::create(b, loc, total, end)) : end;
  }
}

LogicalResult LauncherPlan::rewrite(OpBuilder &b) {
  MLIRContext *ctx = func.getContext();
  Location loc = func.getLoc();
  // The workspace goes before num_tokens.
  unsigned at = tokens.getArgNumber();
  auto wsType =
      MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 8));
  if (failed(func.insertArgument(
          at, wsType,
          DictionaryAttr::get(
              ctx, {NamedAttribute(MoeGPUDialect::kParamAttrName,
                                   ParamAttr::get(ctx, ParamRole::workspace,
                                                  "workspace", AffineMapAttr(),
                                                  Type()))}),
          loc)))
    return failure();
  Value workspace = func.getArgument(at);
  for (Buffer &buffer : buffers) {
    b.setInsertionPoint(buffer.alloc);
    auto view = memref::ViewOp::create(
        b, buffer.alloc.getLoc(), buffer.alloc.getType(), workspace,
        buffer.offset, buffer.alloc.getDynamicSizes());
    buffer.alloc.replaceAllUsesWith(view.getResult());
    buffer.alloc.erase();
  }
  SmallVector<BufferAttr> plan;
  for (Buffer &buffer : buffers) {
    FailureOr<std::string> bytes = print(buffer.bytes, tokens);
    if (failed(bytes))
      return func.emitError()
             << "cannot state the size of buffer '" << buffer.name << "'";
    SmallVector<int64_t> after(buffer.after.begin(), buffer.after.end());
    plan.push_back(BufferAttr::get(ctx, buffer.name, *bytes, after));
  }
  func->setAttr(MoeGPUDialect::kWorkspaceAttrName,
                WorkspaceAttr::get(ctx,
                                   (func.getName() + "_workspace_size").str(),
                                   limits::WorkspaceAlignment, plan));
  return success();
}

/// `<launcher>_workspace_size(num_tokens) -> bytes`: the size computations
/// of the launcher, alone.
LogicalResult LauncherPlan::emitSizeFunction() {
  MLIRContext *ctx = func.getContext();
  // Before the launcher, whose argument checks call it.
  OpBuilder b(func);
  Type index = IndexType::get(ctx);
  auto fn = func::FuncOp::create(b, func.getLoc(),
                                 (func.getName() + "_workspace_size").str(),
                                 b.getFunctionType({index}, {index}));
  fn->setAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName,
              FlatSymbolRefAttr::get(func.getSymNameAttr()));
  fn.setArgAttr(0, MoeGPUDialect::kParamAttrName,
                ParamAttr::get(ctx, ParamRole::num_tokens, "num_tokens",
                               AffineMapAttr(), Type()));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping mapping;
  mapping.map(tokens, entry->getArgument(0));
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.inclusive = true;
  if (failed(getBackwardSlice(total, &slice, options)))
    return failure();
  for (Operation *op : slice)
    b.clone(*op, mapping);
  func::ReturnOp::create(b, func.getLoc(), mapping.lookup(total));
  return success();
}

static std::string gigabytes(int64_t bytes) {
  return llvm::formatv("{0:F2} GB", bytes / 1e9).str();
}

void LauncherPlan::report() {
  Block &body = func.getBody().front();
  unsigned numOps = std::distance(body.begin(), body.end());
  int64_t sum = 0, peak = 0, size = 0;
  SmallVector<int64_t> offsets(buffers.size(), 0);
  for (auto [i, buffer] : llvm::enumerate(buffers)) {
    for (unsigned j : buffer.after)
      offsets[i] = std::max(offsets[i], offsets[j] + buffers[j].reference);
    size = std::max(size, offsets[i] + buffer.reference);
    sum += buffer.reference;
  }
  for (unsigned p = 0; p < numOps; ++p) {
    int64_t live = 0;
    for (const Buffer &buffer : buffers)
      if (buffer.first <= p && p <= buffer.last)
        live += buffer.reference;
    peak = std::max(peak, live);
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "workspace plan of @" << func.getName() << " at " << reference
     << " tokens: " << size << " bytes (" << gigabytes(size) << ") in "
     << buffers.size() << " buffers; peak of live buffers " << peak << " ("
     << gigabytes(peak) << "), all buffers " << sum << " (" << gigabytes(sum)
     << ")";
  for (auto [i, buffer] : llvm::enumerate(buffers))
    os << "\n  #" << i << " " << buffer.name << ": " << buffer.reference
       << " bytes at " << offsets[i] << ", live over ops " << buffer.first
       << "-" << buffer.last;
  emitRemark(func.getLoc()) << text;
}

/// The launcher returns what it wrote into its output arguments: the
/// caller owns those, so the results go.
static LogicalResult dropOutputResults(func::FuncOp func) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto arg = dyn_cast<BlockArgument>(v);
    auto param = arg ? func.getArgAttrOfType<ParamAttr>(
                           arg.getArgNumber(), MoeGPUDialect::kParamAttrName)
                     : ParamAttr();
    if (!param || param.getRole() != ParamRole::output)
      return ret.emitOpError()
             << "result #" << i
             << " is not written into an output argument: run "
                "one-shot-bufferize with function boundaries on the "
                "configured launcher";
  }
  ret->setOperands({});
  return func.eraseResults(llvm::BitVector(func.getNumResults(), /*t=*/true));
}

/// The value of a parameter's row map at `numTokens`, or failure on
/// overflow.
static FailureOr<int64_t> evaluate(AffineExpr expr, int64_t numTokens) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return c.getValue();
  if (isa<AffineSymbolExpr>(expr))
    return numTokens;
  auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!bin)
    return failure();
  FailureOr<int64_t> a = evaluate(bin.getLHS(), numTokens),
                     b = evaluate(bin.getRHS(), numTokens);
  if (failed(a) || failed(b))
    return failure();
  std::optional<int64_t> r;
  switch (bin.getKind()) {
  case AffineExprKind::Add:
    r = llvm::checkedAdd(*a, *b);
    break;
  case AffineExprKind::Mul:
    r = llvm::checkedMul(*a, *b);
    break;
  case AffineExprKind::FloorDiv:
    if (*b > 0)
      r = llvm::divideFloorSigned(*a, *b);
    break;
  case AffineExprKind::CeilDiv:
    if (*b > 0)
      r = llvm::divideCeilSigned(*a, *b);
    break;
  case AffineExprKind::Mod:
    if (*b > 0)
      r = llvm::mod(*a, *b);
    break;
  default:
    break;
  }
  if (!r)
    return failure();
  return *r;
}

/// The most tokens the launcher takes: the largest count at which every
/// tensor parameter, every buffer and the workspace stay within
/// moe::kMaxTensorBytes. Sizes grow with the count (the split-K regimes
/// only change below a few thousand rows), so bisection finds it. The
/// launcher rejects larger counts, so no size it computes overflows.
LogicalResult LauncherPlan::bound() {
  const int64_t cap = mlir::moe::kMaxTensorBytes;
  SmallVector<std::pair<AffineExpr, int64_t>> params; // rows, bytes per row
  for (BlockArgument arg : func.getArguments()) {
    auto param = func.getArgAttrOfType<ParamAttr>(
        arg.getArgNumber(), MoeGPUDialect::kParamAttrName);
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!param || !type || !param.getRows())
      continue;
    std::optional<int64_t> rowBytes = mlir::moe::staticBytes(
        type.getShape().drop_front(), type.getElementType());
    if (!rowBytes)
      return func.emitError() << "parameter '" << param.getName()
                              << "' has rows larger than int64";
    params.push_back({param.getRows().getValue().getResult(0), *rowBytes});
  }
  auto fits = [&](int64_t t) {
    for (auto [rows, rowBytes] : params) {
      FailureOr<int64_t> r = evaluate(rows, t);
      std::optional<int64_t> bytes =
          succeeded(r) ? llvm::checkedMul(*r, rowBytes) : std::nullopt;
      if (!bytes || *bytes > cap)
        return false;
    }
    for (const Buffer &buffer : buffers) {
      FailureOr<int64_t> bytes = evaluate(buffer.bytes, tokens, t);
      if (failed(bytes) || *bytes > cap)
        return false;
    }
    if (total) {
      FailureOr<int64_t> bytes = evaluate(total, tokens, t);
      if (failed(bytes) || *bytes > cap)
        return false;
    }
    return true;
  };
  if (auto fixed = func->getAttrOfType<IntegerAttr>(
          MoeGPUDialect::kStaticTokensAttrName)) {
    if (!fits(fixed.getInt()))
      return func.emitError()
             << "needs a tensor or workspace larger than " << cap
             << " bytes at its " << fixed.getInt() << " tokens";
    return success();
  }
  if (!fits(0))
    return func.emitError() << "needs a tensor or workspace larger than " << cap
                            << " bytes even without tokens";
  int64_t lo = 0, hi = cap;
  if (fits(hi))
    lo = hi;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  func->setAttr(MoeGPUDialect::kMaxTokensAttrName,
                IntegerAttr::get(IntegerType::get(func.getContext(), 64), lo));
  return success();
}

LogicalResult LauncherPlan::run(bool printPlan) {
  if (failed(dropOutputResults(func)) || failed(collect()))
    return failure();
  if (buffers.empty())
    return bound();
  OpBuilder b(func.getContext());
  if (failed(size(b)))
    return failure();
  place(b);
  if (failed(bound()))
    return failure();
  if (printPlan)
    report();
  if (failed(rewrite(b)))
    return failure();
  return emitSizeFunction();
}

namespace {
struct MoeGPUPlanMemoryPass
    : moegpu::impl::MoeGPUPlanMemoryBase<MoeGPUPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    if (referenceTokens < 0) {
      getOperation().emitError("reference-tokens must not be negative");
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> launchers;
    for (func::FuncOp func : getOperation().getOps<func::FuncOp>())
      if (!func.isDeclaration() &&
          !func->hasAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName) &&
          !func->hasAttr(MoeGPUDialect::kWorkspaceAttrName))
        launchers.push_back(func);
    for (func::FuncOp func : launchers) {
      BlockArgument tokens;
      for (BlockArgument arg : func.getArguments())
        if (auto param = func.getArgAttrOfType<ParamAttr>(
                arg.getArgNumber(), MoeGPUDialect::kParamAttrName))
          if (param.getRole() == ParamRole::num_tokens)
            tokens = arg;
      if (!tokens) {
        func.emitError("is not a launcher (no num_tokens argument): run "
                       "moegpu-configure first");
        return signalPassFailure();
      }
      if (failed(LauncherPlan(func, tokens, referenceTokens).run(print)))
        return signalPassFailure();
    }
  }
};
} // namespace
