/*===- moe-c/Registration.h - register moe dialects and passes ----*- C -*-===*/

#ifndef MOE_C_REGISTRATION_H
#define MOE_C_REGISTRATION_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends the moe dialect and every dialect its pipelines use to the
   context's registry (they load lazily on parse). */
MLIR_CAPI_EXPORTED void moeRegisterAllDialects(MlirContext context);

/* Registers the moe passes and pipelines and the upstream passes they are
   made of. Idempotent. */
MLIR_CAPI_EXPORTED void moeRegisterAllPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* MOE_C_REGISTRATION_H */
