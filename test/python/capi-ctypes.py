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


Callback = ctypes.CFUNCTYPE(None, MlirStringRef, ctypes.c_void_p)

lib = ctypes.CDLL(os.environ["MOE_CAPI_LIB"])
lib.moeContextCreate.restype = Handle
lib.moeParseModule.restype = Handle
lib.moeParseModule.argtypes = [Handle, MlirStringRef, MlirStringRef, Callback, ctypes.c_void_p]
lib.mlirModuleGetOperation.restype = Handle
lib.mlirModuleGetOperation.argtypes = [Handle]
lib.moeRunPipeline.restype = MlirLogicalResult
lib.moeRunPipeline.argtypes = [Handle, MlirStringRef, Callback, ctypes.c_void_p]
lib.moePrintOperation.argtypes = [Handle, ctypes.c_bool, Callback, ctypes.c_void_p]
lib.mlirModuleDestroy.argtypes = [Handle]
lib.mlirContextDestroy.argtypes = [Handle]


def ref(text):
    data = text.encode()
    return MlirStringRef(data, len(data))


chunks = []
collect = Callback(lambda s, _: chunks.append(ctypes.string_at(s.data, s.length).decode()))

lib.moeRegisterAllPasses()
ctx = lib.moeContextCreate()
with open(os.path.join(os.environ["MOE_SRC_ROOT"], "examples", "deepseek-v3.mlir")) as f:
    module = lib.moeParseModule(ctx, ref(f.read()), ref("deepseek-v3.mlir"), collect, None)
# CHECK: parsed: True
print("parsed:", bool(module.ptr))
op = lib.mlirModuleGetOperation(module)
result = lib.moeRunPipeline(op, ref("moe-expand-layer"), collect, None)
# CHECK: expanded: 1
print("expanded:", result.value)
chunks.clear()
lib.moePrintOperation(op, False, collect, None)
text = "".join(chunks)
# CHECK: layers left: 0
print("layers left:", text.count("moe.layer"))
# CHECK: routes: 3
print("routes:", text.count("moe.route"))

chunks.clear()
bad = lib.moeParseModule(ctx, ref("func.func @f() { moe.nope }"), ref("bad.mlir"), collect, None)
# CHECK: bad: False bad.mlir:1:18: error: custom op 'moe.nope' is unknown
print("bad:", bool(bad.ptr), chunks[0])

lib.mlirModuleDestroy(module)
lib.mlirContextDestroy(ctx)
