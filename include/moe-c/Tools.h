/*===- moe-c/Tools.h - parse, verify, run pipelines, print --------*- C -*-===*/
/*
 * Coarse helpers for foreign-function callers (ctypes). Each takes a
 * diagnostic callback that receives every diagnostic the call produces, one
 * per invocation, as a MoeDiagnostic: severity, message and location as
 * separate fields, its notes attached. The callback may be NULL.
 */

#ifndef MOE_C_TOOLS_H
#define MOE_C_TOOLS_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How serious a diagnostic is (mlir::DiagnosticSeverity, renumbered). */
typedef enum MoeDiagnosticSeverity {
  MoeSeverityError = 0,
  MoeSeverityWarning = 1,
  MoeSeverityNote = 2,
  MoeSeverityRemark = 3
} MoeDiagnosticSeverity;

/* One diagnostic. Everything it points to, strings and notes, is owned by the
   library and valid only during the callback that receives it: copy what you
   keep. The strings need not be NUL-terminated: use their lengths. */
typedef struct MoeDiagnostic {
  MoeDiagnosticSeverity severity;
  /* The message alone, without location or severity. */
  MlirStringRef message;
  /* The first file position inside the location (a FileLineColLoc, possibly
     nested in a fused, name or call-site location): file name, line and
     column, 1-based (0:0 for a module the parser created implicitly). Empty
     and 0 when the location holds no file position. */
  MlirStringRef file;
  int32_t line;
  int32_t column;
  /* The whole location as MLIR prints it, e.g. loc("a.mlir":2:14) or
     loc(unknown); for display when there is no file position. */
  MlirStringRef location;
  /* The notes attached to this diagnostic, in order, with the same fields
     (severity MoeSeverityNote); NULL when numNotes is 0. */
  intptr_t numNotes;
  const struct MoeDiagnostic *notes;
} MoeDiagnostic;

/* Receives one diagnostic (never NULL) and the caller's `userData`. */
typedef void (*MoeDiagnosticCallback)(const MoeDiagnostic *diagnostic,
                                      void *userData);

/* What moeTranslateToCUDA prints. */
typedef enum MoeCUDAOutput {
  MoeCUDAOutputSource = 0,   /* the CUDA source (.cu) */
  MoeCUDAOutputHeader = 1,   /* the header (.h) with the launcher prototypes */
  MoeCUDAOutputManifest = 2, /* the JSON manifest of the launcher ABI
                                (docs/abi.md) */
} MoeCUDAOutput;

/* A context with the moe dialects registered, multithreading off (for
   deterministic diagnostics). Destroy with mlirContextDestroy. */
MLIR_CAPI_EXPORTED MlirContext moeContextCreate(void);

/* Parses `source` (named `filename` in locations) into a module. Returns a
   null module and reports diagnostics on failure. */
MLIR_CAPI_EXPORTED MlirModule moeParseModule(MlirContext context,
                                             MlirStringRef source,
                                             MlirStringRef filename,
                                             MoeDiagnosticCallback onDiagnostic,
                                             void *userData);

/* Runs the verifier on `op` and everything nested in it. */
MLIR_CAPI_EXPORTED MlirLogicalResult
moeVerify(MlirOperation op, MoeDiagnosticCallback onDiagnostic, void *userData);

/* Parses a textual pass pipeline ("builtin.module(moe-expand-layer)" or
   "moe-expand-layer,canonicalize") and runs it on `op` with verification
   after each pass. Remarks and warnings the passes emit go to
   `onDiagnostic` too. */
MLIR_CAPI_EXPORTED MlirLogicalResult
moeRunPipeline(MlirOperation op, MlirStringRef pipeline,
               MoeDiagnosticCallback onDiagnostic, void *userData);

/* Prints what `kind` names for a module, lowering a copy of it with
   moe-lower-to-cuda first unless it is EmitC already (the caller's module is
   not changed). The text goes to `output` (only on success), diagnostics to
   `onDiagnostic`; an unknown `kind` is an error diagnostic. */
MLIR_CAPI_EXPORTED MlirLogicalResult moeTranslateToCUDA(
    MlirOperation module, MoeCUDAOutput kind, MlirStringCallback output,
    void *outputUserData, MoeDiagnosticCallback onDiagnostic, void *userData);

/* Prints `op` in its custom form (or the generic form when `generic`),
   streaming the text to `callback`. */
MLIR_CAPI_EXPORTED void moePrintOperation(MlirOperation op, bool generic,
                                          MlirStringCallback callback,
                                          void *userData);

#ifdef __cplusplus
}
#endif

#endif /* MOE_C_TOOLS_H */
