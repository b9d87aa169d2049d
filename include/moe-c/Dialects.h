/*===- moe-c/Dialects.h - C API for the moe dialect ----------------*- C
 * -*-===*/

#ifndef MOE_C_DIALECTS_H
#define MOE_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declares mlirGetDialectHandle__moe__(). */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Moe, moe);

#ifdef __cplusplus
}
#endif

#endif /* MOE_C_DIALECTS_H */
