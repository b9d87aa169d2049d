//===- MoeTraits.h - traits of the moe and moegpu ops -----------*- C++ -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOETRAITS_H
#define MOE_DIALECT_MOE_IR_MOETRAITS_H

#include "moe/Dialect/Moe/IR/MoeVerification.h"

#include "mlir/IR/OpDefinition.h"

namespace mlir::OpTrait::moe {

/// Every shaped operand and result of the op takes at most
/// moe::kMaxTensorBytes. Verified before the op's own rules, so the size
/// arithmetic of its verifier and of every lowering cannot overflow.
template <typename ConcreteType>
class SizesFit : public TraitBase<ConcreteType, SizesFit> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return ::mlir::moe::verifyShapedSizes(op);
  }
};

} // namespace mlir::OpTrait::moe

#endif // MOE_DIALECT_MOE_IR_MOETRAITS_H
