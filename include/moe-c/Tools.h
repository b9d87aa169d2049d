/*===- moe-c/Tools.h - parse, verify, run pipelines, print --------*- C -*-===*/
/*
 * Coarse helpers for foreign-function callers (ctypes). Each takes a
 * diagnostic callback that receives every diagnostic the call produces, one
 * per invocation, formatted as "<location>: error: <message>" with any notes
 * on following lines. The callback may be NULL.
 */

#ifndef MOE_C_TOOLS_H
#define MOE_C_TOOLS_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A context with the moe dialects registered, multithreading off (for
   deterministic diagnostics). Destroy with mlirContextDestroy. */
MLIR_CAPI_EXPORTED MlirContext moeContextCreate(void);

/* Parses `source` (named `filename` in locations) into a module. Returns a
   null module and reports diagnostics on failure. */
MLIR_CAPI_EXPORTED MlirModule moeParseModule(MlirContext context,
                                             MlirStringRef source,
                                             MlirStringRef filename,
                                             MlirStringCallback onDiagnostic,
                                             void *userData);

/* Runs the verifier on `op` and everything nested in it. */
MLIR_CAPI_EXPORTED MlirLogicalResult moeVerify(MlirOperation op,
                                               MlirStringCallback onDiagnostic,
                                               void *userData);

/* Parses a textual pass pipeline ("builtin.module(moe-expand-layer)" or
   "moe-expand-layer,canonicalize") and runs it on `op` with verification
   after each pass. */
MLIR_CAPI_EXPORTED MlirLogicalResult
moeRunPipeline(MlirOperation op, MlirStringRef pipeline,
               MlirStringCallback onDiagnostic, void *userData);

/* Prints the CUDA source (`header` false) or the header (`header` true) of
   a module, lowering it with moe-lower-to-cuda first when it still holds moe
   ops. The text goes to `output`, diagnostics to `onDiagnostic`. */
MLIR_CAPI_EXPORTED MlirLogicalResult moeTranslateToCUDA(
    MlirOperation module, bool header, MlirStringCallback output,
    void *outputUserData, MlirStringCallback onDiagnostic, void *userData);

/* Prints `op` in its custom form (or the generic form when `generic`),
   streaming the text to `callback`. */
MLIR_CAPI_EXPORTED void moePrintOperation(MlirOperation op, bool generic,
                                          MlirStringCallback callback,
                                          void *userData);

#ifdef __cplusplus
}
#endif

#endif /* MOE_C_TOOLS_H */
