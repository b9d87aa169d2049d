//===- InitAll.h - register everything moe tools need -----------*- C++ -*-===//
//
// The one registration entry point shared by moe-opt, moe-translate, the
// mlir-opt plugin, the C API and Python, so the tools never drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_INITALL_H
#define MOE_INITALL_H

namespace mlir {
class DialectRegistry;
namespace moe {

/// Inserts the moe dialect and every dialect that moe passes and pipelines
/// produce or that moe-level input may contain.
void registerAllDialects(DialectRegistry &registry);

/// Registers the moe passes and pipelines, and the upstream passes that the
/// pipelines are made of, with the global pass registry. Idempotent.
void registerAllPasses();

} // namespace moe
} // namespace mlir

#endif // MOE_INITALL_H
