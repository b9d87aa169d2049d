//===- TranslateToCUDA.cpp - EmitC launchers to .cu, .h and manifest ------===//
//
// Prints a module lowered to EmitC (moe-lower-to-cuda) three ways: the CUDA
// source through the upstream C++ emitter, the C header of its launchers,
// and the JSON manifest of the launcher ABI (docs/abi.md). The header and
// the manifest come from the launchers' moegpu.param attributes and
// workspace plans, the same facts, so they never disagree.
//
//===----------------------------------------------------------------------===//

#include "moe/Target/CUDA/TranslateToCUDA.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Target/Cpp/CppEmitter.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::moegpu;

//===----------------------------------------------------------------------===//
// The launchers of a module
//===----------------------------------------------------------------------===//

/// Whether every op of the module is EmitC (what the translations print).
static LogicalResult requireEmitC(Operation *module) {
  Operation *foreign = nullptr;
  module->walk([&](Operation *op) {
    if (op != module && !isa<emitc::EmitCDialect>(op->getDialect()) && !foreign)
      foreign = op;
  });
  if (!foreign)
    return success();
  return foreign->emitError()
         << "is not EmitC: lower the module with moe-lower-to-cuda first";
}

namespace {
/// One parameter of a launcher as the header and the manifest state it.
struct Param {
  ParamAttr attr;
  std::string ctype;
};

/// A launcher or a workspace-size function.
struct Launcher {
  emitc::FuncOp func;
  SmallVector<Param> params;
  bool isSizeFunction;
};
} // namespace

/// The C spelling of an EmitC parameter type.
static std::string cTypeOf(Type type) {
  if (auto ptr = dyn_cast<emitc::PointerType>(type))
    return cTypeOf(ptr.getPointee()) + "*";
  if (auto named = dyn_cast<emitc::OpaqueType>(type))
    return named.getValue().str();
  if (type.isInteger(64))
    return "int64_t";
  if (type.isInteger(32))
    return "int32_t";
  if (type.isInteger(1))
    return "bool";
  return "<unsupported>";
}

static SmallVector<Launcher> launchersOf(Operation *module) {
  SmallVector<Launcher> launchers;
  module->walk([&](emitc::FuncOp func) {
    ArrayAttr specifiers = func.getSpecifiersAttr();
    if (!specifiers || !llvm::any_of(specifiers, [](Attribute a) {
          return cast<StringAttr>(a).getValue() == "extern \"C\"";
        }))
      return;
    Launcher launcher{
        func, {}, func->hasAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName)};
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto attr =
          func.getArgAttrOfType<ParamAttr>(i, MoeGPUDialect::kParamAttrName);
      launcher.params.push_back(
          Param{attr, cTypeOf(func.getArgument(i).getType())});
    }
    launchers.push_back(std::move(launcher));
  });
  return launchers;
}

/// An affine function of the token count (s0) in the grammar of
/// docs/abi.md.
static std::string printRows(AffineExpr expr) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return std::to_string(c.getValue());
  if (isa<AffineSymbolExpr>(expr))
    return "num_tokens";
  auto bin = cast<AffineBinaryOpExpr>(expr);
  std::string lhs = printRows(bin.getLHS()), rhs = printRows(bin.getRHS());
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return "(" + lhs + " + " + rhs + ")";
  case AffineExprKind::Mul:
    return lhs + " * " + rhs;
  case AffineExprKind::CeilDiv:
    return "ceildiv(" + lhs + ", " + rhs + ")";
  case AffineExprKind::FloorDiv:
    return "floordiv(" + lhs + ", " + rhs + ")";
  default:
    return "(" + lhs + " - floordiv(" + lhs + ", " + rhs + ") * " + rhs + ")";
  }
}

/// The dimensions of a tensor parameter: integers, and the dynamic leading
/// one as its rows expression.
static SmallVector<std::string> dimsOf(ParamAttr attr) {
  SmallVector<std::string> dims;
  auto type = dyn_cast_or_null<ShapedType>(attr.getType());
  if (!type)
    return dims;
  for (auto [i, d] : llvm::enumerate(type.getShape())) {
    if (!ShapedType::isDynamic(d))
      dims.push_back(std::to_string(d));
    else if (i == 0 && attr.getRows())
      dims.push_back(printRows(attr.getRows().getValue().getResult(0)));
    else
      dims.push_back("?");
  }
  return dims;
}

/// The manifest's name of an element type.
static std::string dtypeName(Type type) {
  if (type.isBF16())
    return "bf16";
  if (type.isF16())
    return "f16";
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (isa<Float8E4M3FNType>(type))
    return "f8E4M3FN";
  if (auto i = dyn_cast<IntegerType>(type))
    return "i" + std::to_string(i.getWidth());
  return "<unsupported>";
}

//===----------------------------------------------------------------------===//
// Translations
//===----------------------------------------------------------------------===//

LogicalResult mlir::moe::translateToCUDA(Operation *module,
                                         llvm::raw_ostream &os) {
  if (failed(requireEmitC(module)))
    return failure();
  os << "// Generated by moe-translate --mlir-to-cuda from the moe dialect.\n"
        "// Compile with nvcc -std=c++17 -I<moe-mlir>/include.\n";
  return emitc::translateToCpp(module, os, /*declareVariablesAtTop=*/false);
}

LogicalResult mlir::moe::translateToCUDAHeader(Operation *module,
                                               llvm::raw_ostream &os) {
  if (failed(requireEmitC(module)))
    return failure();
  os << "// Generated by moe-translate --mlir-to-cuda-header from the moe "
        "dialect.\n"
        "// Launchers: device pointers, the token count and a stream; they "
        "return the\n"
        "// first CUDA error and never synchronise. Tensors are row-major "
        "and dense;\n"
        "// pointers must be 16-byte aligned. Call with the stream's device "
        "current; calls\n"
        "// that may run at the same time (other streams) need their own "
        "workspace.\n"
        "#pragma once\n\n"
        "#include <cuda_bf16.h>\n#include <cuda_fp16.h>\n"
        "#include <cuda_runtime.h>\n#include <stdbool.h>\n"
        "#include <stddef.h>\n#include <stdint.h>\n\n"
        // The 16-bit float types are C++ classes; the launchers take them
        // only by pointer, so C sees their storage structs.
        "#ifndef __cplusplus\n"
        "typedef __nv_bfloat16_raw __nv_bfloat16;\n"
        "typedef __half_raw __half;\n"
        "#endif\n\n"
        "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (Launcher &l : launchersOf(module)) {
    StringRef name = l.func.getName();
    os << "// " << name << ":\n";
    if (l.isSizeFunction) {
      os << "//  bytes of workspace "
         << l.func
                ->getAttrOfType<FlatSymbolRefAttr>(
                    MoeGPUDialect::kWorkspaceSizeOfAttrName)
                .getValue()
         << " needs for num_tokens tokens (0 for a count it rejects)\n";
    } else if (auto tokens = l.func->getAttrOfType<IntegerAttr>(
                   MoeGPUDialect::kStaticTokensAttrName)) {
      os << "//  compiled for num_tokens = " << tokens.getInt() << "\n";
    } else if (auto most = l.func->getAttrOfType<IntegerAttr>(
                   MoeGPUDialect::kMaxTokensAttrName)) {
      os << "//  num_tokens in [0, " << most.getInt() << "]\n";
    }
    for (const Param &p : l.params) {
      if (!p.attr)
        continue;
      switch (p.attr.getRole()) {
      case ParamRole::input:
      case ParamRole::output: {
        auto type = cast<ShapedType>(p.attr.getType());
        os << "//  " << p.attr.getName() << ": [";
        llvm::interleaveComma(dimsOf(p.attr), os);
        os << "] " << cElementTypeName(type.getElementType()) << " ("
           << (p.attr.getRole() == ParamRole::input ? "input" : "output")
           << ")\n";
        break;
      }
      case ParamRole::workspace:
        if (auto plan = l.func->getAttrOfType<WorkspaceAttr>(
                MoeGPUDialect::kWorkspaceAttrName))
          os << "//  " << p.attr.getName() << ": " << plan.getFunction()
             << "(num_tokens) bytes of device memory\n";
        break;
      default:
        break;
      }
    }
    os << (l.isSizeFunction ? "size_t " : "cudaError_t ") << name << "(";
    for (auto [i, p] : llvm::enumerate(l.params)) {
      if (i)
        os << ", ";
      os << p.ctype << " "
         << (p.attr ? p.attr.getName() : StringRef("num_tokens"));
    }
    os << ");\n\n";
  }
  os << "#ifdef __cplusplus\n}\n#endif\n";
  return success();
}

LogicalResult mlir::moe::translateToCUDAManifest(Operation *module,
                                                 llvm::raw_ostream &os) {
  if (failed(requireEmitC(module)))
    return failure();
  auto targetAttr =
      module->getAttrOfType<TargetAttr>(MoeGPUDialect::kTargetAttrName);
  if (!targetAttr)
    return module->emitError("has no moegpu.target: lower it with "
                             "moe-lower-to-cuda");
  const ::moe::limits::Target *target = targetAttr.getInfo();
  llvm::json::OStream json(os, /*IndentSize=*/2);
  json.object([&] {
    json.attribute("format", "moe-mlir-launchers");
    json.attribute("version", 1);
    json.attributeObject("target", [&] {
      json.attribute("name", target->name);
      json.attributeArray("capability", [&] {
        json.value(target->major);
        json.value(target->minor);
      });
      json.attribute("arch_specific", target->archSpecific);
    });
    json.attributeArray("launchers", [&] {
      for (Launcher &l : launchersOf(module)) {
        if (l.isSizeFunction)
          continue;
        json.object([&] {
          json.attribute("name", l.func.getName());
          auto tokens = l.func->getAttrOfType<IntegerAttr>(
              MoeGPUDialect::kStaticTokensAttrName);
          json.attribute("static_tokens",
                         tokens ? llvm::json::Value(tokens.getInt())
                                : llvm::json::Value(nullptr));
          auto most = l.func->getAttrOfType<IntegerAttr>(
              MoeGPUDialect::kMaxTokensAttrName);
          json.attribute("max_tokens", most ? llvm::json::Value(most.getInt())
                                            : llvm::json::Value(nullptr));
          json.attributeArray("params", [&] {
            for (const Param &p : l.params)
              json.object([&] {
                json.attribute("name", p.attr.getName());
                json.attribute("role", stringifyParamRole(p.attr.getRole()));
                json.attribute("ctype", p.ctype);
                if (auto type =
                        dyn_cast_or_null<ShapedType>(p.attr.getType())) {
                  json.attribute("dtype", dtypeName(type.getElementType()));
                  json.attributeArray("shape", [&] {
                    for (auto [i, d] : llvm::enumerate(type.getShape())) {
                      if (!ShapedType::isDynamic(d))
                        json.value(d);
                      else
                        json.value(dimsOf(p.attr)[i]);
                    }
                  });
                  json.attribute("align", ::moe::limits::VectorBytes);
                } else if (p.attr.getRole() == ParamRole::workspace) {
                  json.attribute("align", ::moe::limits::WorkspaceAlignment);
                }
              });
          });
          if (auto plan = l.func->getAttrOfType<WorkspaceAttr>(
                  MoeGPUDialect::kWorkspaceAttrName))
            json.attributeObject("workspace", [&] {
              json.attribute("function", plan.getFunction());
              json.attribute("alignment", plan.getAlignment());
              json.attributeArray("buffers", [&] {
                for (BufferAttr buffer : plan.getBuffers())
                  json.object([&] {
                    json.attribute("name", buffer.getName());
                    json.attribute("bytes", buffer.getBytes());
                    json.attributeArray("after", [&] {
                      for (int64_t j : buffer.getAfter())
                        json.value(j);
                    });
                  });
              });
            });
        });
      }
    });
  });
  os << "\n";
  return success();
}

void mlir::moe::registerToCUDATranslations(
    CUDALowering lower, std::function<void(DialectRegistry &)> dialects) {
  auto registerDialects = [dialects](DialectRegistry &registry) {
    registry.insert<emitc::EmitCDialect, MoeGPUDialect>();
    if (dialects)
      dialects(registry);
  };
  auto translation =
      [lower](LogicalResult (*print)(Operation *, llvm::raw_ostream &)) {
        return [lower, print](Operation *op, llvm::raw_ostream &os) {
          if (lower && failed(lower(op)))
            return failure();
          return print(op, os);
        };
      };
  TranslateFromMLIRRegistration cu(
      "mlir-to-cuda",
      "Print CUDA source (.cu) for a moe module lowered to EmitC",
      translation(translateToCUDA), registerDialects);
  TranslateFromMLIRRegistration h(
      "mlir-to-cuda-header",
      "Print the C header (.h) of the launchers of a moe module",
      translation(translateToCUDAHeader), registerDialects);
  TranslateFromMLIRRegistration json(
      "mlir-to-cuda-manifest",
      "Print the JSON manifest of the launcher ABI (docs/abi.md)",
      translation(translateToCUDAManifest), registerDialects);
}
