//===- moe-fuzz.cpp - libFuzzer target: parse, verify, every pipeline -----===//
//
// Each input is MLIR text. It is parsed, verified, printed and re-parsed
// (the custom assembly formats must round-trip), and then every pipeline of
// kPipelines runs on its own clone of the module: the moe passes one by
// one, the CPU lowering, moegpu-configure for two targets and
// moe-lower-to-cuda, whose EmitC is printed as CUDA source, header and
// manifest into a null stream. A project pass must not fail by producing
// invalid IR (what it accepts it lowers to valid IR) nor fail without a
// diagnostic, and the output of every successful pipeline must round-trip.
//
// Errors are expected (most inputs are invalid) and are swallowed: the
// fuzzer looks for crashes, assertion failures, sanitizer reports, hangs
// (-timeout) and memory blow-ups (-rss_limit_mb), and for passes that
// produce invalid IR and round-trip failures, which abort. Built with
// MOE_ENABLE_FUZZER=ON (scripts/fuzz.sh); see the top of scripts/fuzz.sh
// for how to run it and replay reproducers.
//
// Scope. libMLIR.so is Debian's release build: it is not instrumented, so
// coverage guides the fuzzer through the project's code only. Inputs whose
// ops come from dialects outside kInputDialects (what moe-level input holds
// around moe ops) are rejected before the pipelines, so the fuzzer does not
// spend its time in, or report crashes of, upstream canonicalizers of
// unrelated dialects.
//
// Environment:
//   MOE_FUZZ_VERBOSE=1     print each stage and every diagnostic to stderr
//                          (triage of a reproducer).
//   MOE_FUZZ_PIPELINES=a,b run only the named pipelines of kPipelines (by
//                          their `name`), e.g. to bisect a finding.
//
//===----------------------------------------------------------------------===//

#include "moe/InitAll.h"
#include "moe/Target/CUDA/TranslateToCUDA.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace mlir;

namespace {

/// One pipeline the fuzzer runs on a clone of every verified input.
struct Pipeline {
  /// What MOE_FUZZ_PIPELINES and the verbose log call it.
  const char *name;
  /// The textual pipeline, nested under builtin.module.
  const char *passes;
  /// Whether its output is EmitC to print as CUDA (source, header, manifest).
  bool translate;
};

// Every stage of the compiler on the input as it is: the first five are the
// moe-level passes and the CPU lowering, then the GPU configuration for a
// wgmma and an mma.sync target and the whole CUDA lowering with default and
// non-default options. The last two take bufferized moegpu input (the
// MoeGPU/Transforms and MoeGPUToEmitC tests are such seeds).
const Pipeline kPipelines[] = {
    {"expand", "moe-expand-layer", false},
    {"canonicalize", "canonicalize", false},
    {"plan-dispatch", "moe-plan-dispatch", false},
    {"plan-dispatch-opts",
     "moe-expand-layer,moe-plan-dispatch{nodes=2 gpus-per-node=2 "
     "node-limit=1 return-layout=true}",
     false},
    {"to-loops", "convert-moe-to-loops", false},
    {"lower-to-cpu", "moe-lower-to-cpu", false},
    {"configure-sm90a", "moegpu-configure{target=sm_90a}", false},
    {"configure-sm80-fuse", "moegpu-configure{target=sm_80 fuse-gather=true}",
     false},
    {"lower-to-cuda", "moe-lower-to-cuda", true},
    {"lower-to-cuda-sm80",
     "moe-lower-to-cuda{target=sm_80 fuse-gather=true gemm-family=mma_sync "
     "tile-chunk=1 print-memory-plan=true}",
     true},
    {"plan-memory", "moegpu-plan-memory{print=true}", false},
    {"to-emitc", "convert-moegpu-to-emitc", true},
};

/// The dialects moe-level input holds (moe ops and the upstream ops around
/// them in the tests, examples and benchmarks); see the file comment.
const char *const kInputDialects[] = {
    "builtin", "func",   "arith",         "tensor", "moe",
    "moegpu",  "memref", "bufferization", "scf",
};

struct Fuzzer {
  DialectRegistry registry;
  bool verbose = false;
  /// Bit i: kPipelines[i] runs.
  uint64_t enabled = ~uint64_t(0);
  llvm::StringSet<> inputDialects;
  /// Errors reported while the current input runs, and by each pass in its
  /// last run (CheckProjectPasses).
  size_t errors = 0;
  llvm::DenseMap<const Pass *, size_t> ownErrors;
};

Fuzzer *fuzzer = nullptr;

void log(const llvm::Twine &message) {
  if (fuzzer->verbose)
    llvm::errs() << "moe-fuzz: " << message << "\n";
}

/// A stage produced text that does not parse back: a printer/parser bug.
[[noreturn]] void reportRoundTripFailure(llvm::StringRef stage,
                                         llvm::StringRef text,
                                         llvm::StringRef diagnostics) {
  llvm::errs() << "moe-fuzz: the output of " << stage
               << " does not round-trip:\n"
               << diagnostics << "--- printed IR ---\n"
               << text << "\n--- end ---\n";
  llvm::errs().flush();
  abort();
}

/// Prints `module` in the custom form, parses the text back and verifies it.
void checkRoundTrip(ModuleOp module, llvm::StringRef stage) {
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    module->print(os, OpPrintingFlags().enableDebugInfo(false));
  }
  std::string diagnostics;
  ScopedDiagnosticHandler collect(module.getContext(), [&](Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << diag.getLocation() << ": " << diag << "\n";
    return success();
  });
  ParserConfig config(module.getContext(), /*verifyAfterParse=*/true);
  OwningOpRef<ModuleOp> reparsed =
      parseSourceString<ModuleOp>(text, config, "roundtrip");
  if (!reparsed)
    reportRoundTripFailure(stage, text, diagnostics);
}

/// Whether every op of `module` comes from a dialect of kInputDialects.
bool holdsOnlyInputDialects(ModuleOp module) {
  return !module
              ->walk([](Operation *op) {
                return fuzzer->inputDialects.contains(
                           op->getName().getDialectNamespace())
                           ? WalkResult::advance()
                           : WalkResult::interrupt();
              })
              .wasInterrupted();
}

/// Whether `pass` is one of the project's (moe-*, moegpu-*, convert-moe*).
bool isProjectPass(Pass *pass) {
  StringRef arg = pass->getArgument();
  return arg.starts_with("moe") || arg.starts_with("convert-moe");
}

[[noreturn]] void reportPassBug(Pass *pass, Operation *op, llvm::StringRef what,
                                llvm::StringRef diagnostics) {
  llvm::errs() << "moe-fuzz: " << pass->getArgument() << " " << what << ":\n"
               << diagnostics << "--- IR ---\n";
  op->print(llvm::errs(), OpPrintingFlags().printGenericOpForm());
  llvm::errs() << "\n--- end ---\n";
  llvm::errs().flush();
  abort();
}

/// The pass manager verifies the IR after every pass and fails the pipeline
/// when it does not verify, as moe-opt does. For the project's passes that
/// is not enough: what a pass accepts it must lower to valid IR, and when
/// it fails it says why. So a project pass that fails without an error of
/// its own (counted while it runs, by the action handler of
/// LLVMFuzzerTestOneInput) aborts the fuzzer: it produced invalid IR, or
/// failed silently. Upstream passes keep the pass manager's behaviour.
struct CheckProjectPasses : PassInstrumentation {
  void runAfterPassFailed(Pass *pass, Operation *op) override {
    if (!isProjectPass(pass) || fuzzer->ownErrors.lookup(pass))
      return;
    std::string diagnostics;
    bool valid;
    {
      ScopedDiagnosticHandler collect(op->getContext(), [&](Diagnostic &diag) {
        llvm::raw_string_ostream os(diagnostics);
        os << diag.getLocation() << ": " << diag << "\n";
        return success();
      });
      valid = succeeded(verify(op));
    }
    reportPassBug(pass, op,
                  valid ? "failed without a diagnostic"
                        : "produced IR that does not verify",
                  diagnostics);
  }
};

void runPipeline(ModuleOp input, const Pipeline &pipeline) {
  log(llvm::Twine("pipeline ") + pipeline.name);
  MLIRContext *context = input.getContext();
  PassManager pm(context);
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(parsePassPipeline(pipeline.passes, pm, errorStream))) {
    llvm::errs() << "moe-fuzz: pipeline '" << pipeline.passes
                 << "' does not parse: " << errors << "\n";
    abort();
  }
  pm.addInstrumentation(std::make_unique<CheckProjectPasses>());
  OwningOpRef<ModuleOp> module = input.clone();
  if (failed(pm.run(*module))) {
    log(llvm::Twine("  failed: ") + pipeline.name);
    return;
  }
  checkRoundTrip(*module, pipeline.name);
  if (!pipeline.translate)
    return;
  log("  translate");
  (void)moe::translateToCUDA(*module, llvm::nulls());
  (void)moe::translateToCUDAHeader(*module, llvm::nulls());
  (void)moe::translateToCUDAManifest(*module, llvm::nulls());
}

} // namespace

//===----------------------------------------------------------------------===//
// Mutations that know the syntax
//===----------------------------------------------------------------------===//
//
// libFuzzer's byte mutations seldom keep IR valid where it matters: a size
// is spelled in every type that holds it and the verifiers compare them, so
// changing one occurrence only makes the input invalid. Half of the
// mutations are therefore one of these (the other half, and every case
// where one does not apply, are libFuzzer's own, -dict included):
//  * every occurrence of one integer (a whole token: a size, an attribute
//    value) becomes an edge value -- 0, 1, sizes around 2^31, 2^32 and 2^62,
//    INT64_MAX -- or the integer +-1 or x2, or `?` where it is a dimension;
//    one occurrence in four only the chosen one;
//  * every dynamic dimension `?` becomes one static size;
//  * a keyword becomes another of its kind (an enum case, an element type,
//    a target) at one or at every occurrence;
//  * a line (usually one op) is deleted, duplicated or swapped with another.

namespace {

const char *const kEdgeValues[] = {"0",
                                   "1",
                                   "2",
                                   "3",
                                   "7",
                                   "8",
                                   "16",
                                   "63",
                                   "64",
                                   "127",
                                   "128",
                                   "255",
                                   "256",
                                   "257",
                                   "1024",
                                   "4096",
                                   "65536",
                                   "2147483647",
                                   "2147483648",
                                   "4294967295",
                                   "4294967296",
                                   "4611686018427387904",
                                   "3074457345618258603",
                                   "9223372036854775807",
                                   "18446744073709551616"};

struct KeywordKind {
  /// Element types also follow the `x` of a shape (tensor<4xf32>).
  bool elementType;
  std::vector<const char *> words;
};

const KeywordKind kKeywordKinds[] = {
    {false, {"sigmoid", "softmax"}},
    {false, {"max", "topk_sum"}},
    {false, {"sequence", "expert", "device", "comm"}},
    {false, {"selected", "topk"}},
    {false, {"probs", "position"}},
    {false, {"wgmma", "mma_sync"}},
    {false, {"registers", "tma"}},
    {false, {"none", "silu_mul"}},
    {false, {"persistent", "exact"}},
    {false, {"input", "output", "workspace", "num_tokens", "stream"}},
    {true,
     {"f32", "bf16", "f16", "f64", "f8E4M3FN", "i1", "i8", "i32", "i64",
      "index"}},
    {false, {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"}},
    {false, {"tensor", "memref"}},
};

bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

struct Token {
  size_t begin, end;
};

/// Whether [begin, end) is a dimension of a shaped type: `<` or `x` before,
/// `x` or `>` after.
bool isDimension(const std::string &text, Token t) {
  return t.begin > 0 &&
         (text[t.begin - 1] == '<' || text[t.begin - 1] == 'x') &&
         t.end < text.size() && (text[t.end] == 'x' || text[t.end] == '>');
}

/// The runs of digits that are whole tokens (not part of `%arg0`, `f32` or
/// `1.5`), dimensions (`4x8`) included.
std::vector<Token> integerTokens(const std::string &text) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])))
      ++j;
    char before = i ? text[i - 1] : ' ';
    char after = j < text.size() ? text[j] : ' ';
    bool dimension = isDimension(text, {i, j});
    if ((dimension || (!isIdentChar(before) && before != '.' && before != '%' &&
                       before != '#' && before != '@' && before != '^')) &&
        (dimension || (!isIdentChar(after) && after != '.')))
      tokens.push_back({i, j});
    i = j;
  }
  return tokens;
}

/// Replaces the tokens of `text` listed in `which` by `replacement`.
std::string replaceTokens(const std::string &text,
                          const std::vector<Token> &which,
                          const std::string &replacement) {
  std::string out;
  size_t at = 0;
  for (Token t : which) {
    out.append(text, at, t.begin - at);
    out += replacement;
    at = t.end;
  }
  out.append(text, at, std::string::npos);
  return out;
}

bool mutateInteger(std::string &text, std::minstd_rand &rng) {
  std::vector<Token> tokens = integerTokens(text);
  if (tokens.empty())
    return false;
  Token chosen = tokens[rng() % tokens.size()];
  std::string value = text.substr(chosen.begin, chosen.end - chosen.begin);
  std::string replacement;
  switch (rng() % 4) {
  case 0:
    if (isDimension(text, chosen)) {
      replacement = "?";
      break;
    }
    [[fallthrough]];
  case 1: {
    unsigned long long v = std::strtoull(value.c_str(), nullptr, 10);
    unsigned long long w[] = {v + 1, v ? v - 1 : 0, v * 2, v / 2};
    replacement = std::to_string(w[rng() % 4]);
    break;
  }
  default:
    replacement = kEdgeValues[rng() % std::size(kEdgeValues)];
  }
  std::vector<Token> which;
  if (rng() % 4 == 0)
    which.push_back(chosen);
  else
    for (Token t : tokens)
      if (text.compare(t.begin, t.end - t.begin, value) == 0)
        which.push_back(t);
  text = replaceTokens(text, which, replacement);
  return true;
}

bool mutateDynamicDims(std::string &text, std::minstd_rand &rng) {
  std::vector<Token> dims;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '?' && isDimension(text, {i, i + 1}))
      dims.push_back({i, i + 1});
  if (dims.empty())
    return false;
  if (rng() % 4 == 0)
    dims = {dims[rng() % dims.size()]};
  text = replaceTokens(text, dims, kEdgeValues[rng() % std::size(kEdgeValues)]);
  return true;
}

bool mutateKeyword(std::string &text, std::minstd_rand &rng) {
  struct Occurrence {
    Token token;
    size_t kind;
  };
  std::vector<Occurrence> found;
  for (size_t kind = 0; kind < std::size(kKeywordKinds); ++kind)
    for (const char *word : kKeywordKinds[kind].words)
      for (size_t at = text.find(word); at != std::string::npos;
           at = text.find(word, at + 1)) {
        size_t end = at + std::strlen(word);
        char before = at ? text[at - 1] : ' ';
        if ((isIdentChar(before) &&
             !(before == 'x' && kKeywordKinds[kind].elementType)) ||
            (end < text.size() && isIdentChar(text[end])))
          continue;
        found.push_back({{at, end}, kind});
      }
  if (found.empty())
    return false;
  Occurrence chosen = found[rng() % found.size()];
  const auto &kind = kKeywordKinds[chosen.kind].words;
  std::string word =
      text.substr(chosen.token.begin, chosen.token.end - chosen.token.begin);
  std::string replacement = kind[rng() % kind.size()];
  std::vector<Token> which;
  if (rng() % 2)
    which.push_back(chosen.token);
  else
    for (const Occurrence &o : found)
      if (text.compare(o.token.begin, o.token.end - o.token.begin, word) == 0)
        which.push_back(o.token);
  std::sort(which.begin(), which.end(),
            [](Token a, Token b) { return a.begin < b.begin; });
  text = replaceTokens(text, which, replacement);
  return true;
}

bool mutateLines(std::string &text, std::minstd_rand &rng) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    end = end == std::string::npos ? text.size() : end + 1;
    lines.push_back(text.substr(at, end - at));
    at = end;
  }
  if (lines.size() < 2)
    return false;
  size_t i = rng() % lines.size(), j = rng() % lines.size();
  switch (rng() % 3) {
  case 0:
    lines.erase(lines.begin() + i);
    break;
  case 1:
    lines.insert(lines.begin() + j, lines[i]);
    break;
  default:
    std::swap(lines[i], lines[j]);
  }
  text.clear();
  for (const std::string &line : lines)
    text += line;
  return true;
}

} // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned int seed) {
  std::minstd_rand rng(seed);
  unsigned choice = rng() % 8;
  if (choice >= 4)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::string text(reinterpret_cast<const char *>(data), size);
  bool mutated = choice == 0   ? mutateInteger(text, rng)
                 : choice == 1 ? mutateDynamicDims(text, rng)
                 : choice == 2 ? mutateKeyword(text, rng)
                               : mutateLines(text, rng);
  if (!mutated || text.size() > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

// Sanitizer defaults, so that the binary run by hand behaves like
// scripts/fuzz.sh runs it (ASAN_OPTIONS and UBSAN_OPTIONS still override).
// allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs under
// ASan and unpoisons what it hands out, in inline header code. The project's
// code is instrumented and libMLIR.so is not, so a slab that our copy of the
// allocator poisoned can be handed out by libMLIR's copy, which does not
// unpoison it: a false use-after-poison (seen at once in moegpu-plan-memory,
// whose attributes share the context's allocator with libMLIR).
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
extern "C" const char *__ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzzer = new Fuzzer;
  moe::registerAllDialects(fuzzer->registry);
  moe::registerAllPasses();
  fuzzer->verbose = getenv("MOE_FUZZ_VERBOSE") != nullptr;
  for (const char *name : kInputDialects)
    fuzzer->inputDialects.insert(name);
  if (const char *only = getenv("MOE_FUZZ_PIPELINES")) {
    fuzzer->enabled = 0;
    llvm::SmallVector<llvm::StringRef> names;
    llvm::StringRef(only).split(names, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef name : names) {
      auto *it = llvm::find_if(
          kPipelines, [&](const Pipeline &p) { return name.trim() == p.name; });
      if (it == std::end(kPipelines)) {
        llvm::errs() << "moe-fuzz: unknown pipeline '" << name
                     << "' in MOE_FUZZ_PIPELINES\n";
        exit(2);
      }
      fuzzer->enabled |= uint64_t(1) << (it - std::begin(kPipelines));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input (the registry is built once): nothing an
  // input interns or loads outlives it, so every finding reproduces from its
  // file alone, memory does not grow over a long run, and LeakSanitizer sees
  // the context's storage freed and reports only real leaks. It costs about
  // 15% of the executions per second of one context shared by all inputs.
  MLIRContext context(fuzzer->registry, MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler swallow(&context, [](Diagnostic &diag) {
    fuzzer->errors += diag.getSeverity() == DiagnosticSeverity::Error;
    if (fuzzer->verbose)
      llvm::errs() << diag.getLocation() << ": " << diag << "\n";
    return success();
  });

  // The errors each pass reports itself, apart from the pass manager's
  // verification after it (CheckProjectPasses).
  fuzzer->ownErrors.clear();
  context.registerActionHandler(
      [](function_ref<void()> transform, const tracing::Action &action) {
        if (action.getTag() != PassExecutionAction::tag)
          return transform();
        size_t before = fuzzer->errors;
        transform();
        fuzzer->ownErrors[&static_cast<const PassExecutionAction &>(action)
                               .getPass()] = fuzzer->errors - before;
      });

  // The lexer reads the terminating NUL at the end of its buffer, which
  // libFuzzer's data does not have.
  std::string text(reinterpret_cast<const char *>(data), size);
  log("parse");
  ParserConfig config(&context, /*verifyAfterParse=*/false);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, config, "input");
  if (!module)
    return 0;
  log("verify");
  if (failed(verify(*module)))
    return 0;
  if (!holdsOnlyInputDialects(*module)) {
    log("rejected: an op outside the input dialects");
    return -1; // not added to the corpus
  }
  log("round-trip");
  checkRoundTrip(*module, "the parser");

  for (auto [i, pipeline] : llvm::enumerate(kPipelines))
    if (fuzzer->enabled & (uint64_t(1) << i))
      runPipeline(*module, pipeline);
  return 0;
}
