# libMoeCAPI.so is loadable with ctypes and drives the whole C API surface.
# RUN: %PYTHON %s | FileCheck %s

import ctypes
import os


class MlirStringRef(ctypes.Structure):
    _fields_ = [("data", ctypes.c_char_p), ("length", ctypes.c_size_t)]


class Handle(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p)]


class MlirLogicalResult(ctypes.Structure):
    _fields_ = [("value", ctypes.c_int8)]


class MoeDiagnostic(ctypes.Structure):
    pass


MoeDiagnostic._fields_ = [
    ("severity", ctypes.c_int), ("message", MlirStringRef), ("file", MlirStringRef),
    ("line", ctypes.c_int32), ("column", ctypes.c_int32), ("location", MlirStringRef),
    ("numNotes", ctypes.c_ssize_t), ("notes", ctypes.POINTER(MoeDiagnostic))]

Callback = ctypes.CFUNCTYPE(None, MlirStringRef, ctypes.c_void_p)
DiagnosticCallback = ctypes.CFUNCTYPE(None, ctypes.POINTER(MoeDiagnostic), ctypes.c_void_p)

lib = ctypes.CDLL(os.environ["MOE_CAPI_LIB"])
lib.moeContextCreate.restype = Handle
lib.moeParseModule.restype = Handle
lib.moeParseModule.argtypes = [Handle, MlirStringRef, MlirStringRef, DiagnosticCallback,
                               ctypes.c_void_p]
lib.mlirModuleGetOperation.restype = Handle
lib.mlirModuleGetOperation.argtypes = [Handle]
lib.moeRunPipeline.restype = MlirLogicalResult
lib.moeRunPipeline.argtypes = [Handle, MlirStringRef, DiagnosticCallback, ctypes.c_void_p]
lib.moePrintOperation.argtypes = [Handle, ctypes.c_bool, Callback, ctypes.c_void_p]
lib.mlirModuleDestroy.argtypes = [Handle]
lib.mlirContextDestroy.argtypes = [Handle]


def ref(text):
    data = text.encode()
    return MlirStringRef(data, len(data))


def string(s):
    return ctypes.string_at(s.data, s.length).decode()


chunks = []
collect = Callback(lambda s, _: chunks.append(string(s)))


def fields(d):
    return (d.severity, string(d.message), string(d.file), d.line, d.column, string(d.location),
            [fields(d.notes[i]) for i in range(d.numNotes)])


diagnostics = []
on_diagnostic = DiagnosticCallback(lambda d, _: diagnostics.append(fields(d.contents)))

lib.moeRegisterAllPasses()
ctx = lib.moeContextCreate()
with open(os.path.join(os.environ["MOE_SRC_ROOT"], "examples", "deepseek-v3.mlir")) as f:
    module = lib.moeParseModule(ctx, ref(f.read()), ref("deepseek-v3.mlir"), on_diagnostic,
                                None)
# CHECK: parsed: True
print("parsed:", bool(module.ptr))
op = lib.mlirModuleGetOperation(module)
result = lib.moeRunPipeline(op, ref("moe-expand-layer"), on_diagnostic, None)
# CHECK: expanded: 1
print("expanded:", result.value)
chunks.clear()
lib.moePrintOperation(op, False, collect, None)
text = "".join(chunks)
# CHECK: layers left: 0
print("layers left:", text.count("moe.layer"))
# CHECK: routes: 3
print("routes:", text.count("moe.route"))

# Severity, message and location arrive apart, whatever the file name holds
# (here text a parser of "file:line:col: error: message" strings would split).
bad = lib.moeParseModule(ctx, ref("func.func @f() { moe.nope }"), ref("a:1:2: error: b.mlir"),
                         on_diagnostic, None)
# CHECK: bad: False (0, "custom op 'moe.nope' is unknown", 'a:1:2: error: b.mlir', 1, 18,
# CHECK-SAME: 'loc("a:1:2: error: b.mlir":1:18)', [])
print("bad:", bool(bad.ptr), diagnostics[-1])

# Notes arrive attached to their diagnostic (severity 2: note).
diagnostics.clear()
redefined = lib.moeParseModule(ctx, ref("func.func private @f()\nfunc.func private @f()\n"),
                               ref("r.mlir"), on_diagnostic, None)
# CHECK: redefined: False 1 (0, "redefinition of symbol named 'f'", 'r.mlir', 2, 1,
# CHECK-SAME: 'loc("r.mlir":2:1)', [(2, 'see existing symbol definition here', 'r.mlir', 1, 1,
# CHECK-SAME: 'loc("r.mlir":1:1)', [])])
print("redefined:", bool(redefined.ptr), len(diagnostics), diagnostics[0])

lib.mlirModuleDestroy(module)
lib.mlirContextDestroy(ctx)
