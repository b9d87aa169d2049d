"""Run moe modules on the CPU: compile once with moe-lower-to-cpu and MLIR's
ExecutionEngine, then call functions on NumPy arrays.

    from moe_mlir.cpu import CPUProgram
    prog = CPUProgram(open("routing.mlir").read())
    ids, weights = prog.run("route", scores, bias)

Tensor arguments map to NumPy arrays: f32 -> float32, f16 -> float16,
i32 -> int32, i64 -> int64, i1 -> bool, bf16 -> float32 arrays (rounded to
bf16, nearest-even) or uint16 arrays of raw bf16 bits; bf16 results come back
as float32; f8E4M3FN -> uint8 arrays of raw e4m3fn bits, both ways.
Dynamic dimensions (`?`) take the array's size; since the only
dynamic size a moe function has is the token count, all dynamic input
dimensions must agree unless `check_dynamic=False`.
"""

import ctypes
import re

import numpy as np

from ._capi import Closeable, Diagnostics, MlirStringRef, MoeError, TextSink, lib
from .ir import Module

_ELEMENT_TYPES = {
    "f32": np.dtype(np.float32),
    "f16": np.dtype(np.float16),
    "f64": np.dtype(np.float64),
    "bf16": np.dtype(np.uint16),
    "f8E4M3FN": np.dtype(np.uint8),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
    "i1": np.dtype(np.bool_),
}


class TensorSpec:
    """A ranked tensor type: shape (None for `?`) and element type."""

    def __init__(self, text):
        m = re.fullmatch(r"tensor<((?:(?:\d+|\?)x)*)([A-Za-z0-9]+)>", text.strip())
        if not m:
            raise MoeError(f"unsupported function argument or result type {text!r}: "
                           "the CPU runner takes ranked tensors")
        dims = [d for d in m.group(1).split("x") if d]
        self.shape = tuple(None if d == "?" else int(d) for d in dims)
        self.element = m.group(2)
        if self.element not in _ELEMENT_TYPES:
            raise MoeError(f"unsupported element type {self.element} in {text}")
        self.text = text.strip()

    @property
    def rank(self):
        return len(self.shape)

    @property
    def storage(self):
        return _ELEMENT_TYPES[self.element]

    def __repr__(self):
        return self.text


def _split_types(text):
    """Top-level comma split of '(a, b)' or 'a'."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


class Signature:
    """Argument and result types of a public function."""

    def __init__(self, name, function_type):
        self.name = name
        text = function_type.strip()
        depth = 0
        for end, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                break
        inputs, rest = text[:end + 1], text[end + 1:].strip()
        if not rest.startswith("->"):
            raise MoeError(f"cannot read function type {function_type!r}")
        self.inputs = [TensorSpec(t) for t in _split_types(inputs)]
        self.results = [TensorSpec(t) for t in _split_types(rest[2:])]

    def __repr__(self):
        ins = ", ".join(map(repr, self.inputs))
        outs = ", ".join(map(repr, self.results))
        return f"@{self.name}({ins}) -> ({outs})"


def _descriptor_type(rank):
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def _to_bf16_bits(values):
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + (((bits >> 16) & 1) + 0x7FFF)) >> 16
    nan = np.isnan(values)
    rounded = np.where(nan, (bits >> 16) | 0x40, rounded)
    return rounded.astype(np.uint16)


def _from_bf16_bits(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _module_signatures(module):
    api = lib()
    sigs = {}
    op = api.mlirBlockGetFirstOperation(api.mlirModuleGetBody(module))
    while op.ptr:
        name = api.mlirIdentifierStr(api.mlirOperationGetName(op)).str()
        if name == "func.func":
            visibility = api.mlirOperationGetAttributeByName(op, MlirStringRef.of("sym_visibility"))
            sym = api.mlirStringAttrGetValue(
                api.mlirOperationGetAttributeByName(op, MlirStringRef.of("sym_name"))).str()
            sink = TextSink()
            api.mlirAttributePrint(
                api.mlirOperationGetAttributeByName(op, MlirStringRef.of("function_type")),
                sink.callback, None)
            if not visibility.ptr:
                try:
                    sigs[sym] = Signature(sym, sink.text())
                except MoeError:
                    sigs[sym] = None  # not callable from NumPy; reported on use
        op = api.mlirOperationGetNextInBlock(op)
    return sigs


def _runtime_error_text(kind, value, dynamic):
    """The message of a failure the compiled program recorded."""
    tokens = dynamic[0][2] if dynamic else "?"
    if kind == 1:
        return (f"the token count ({tokens}) is not a multiple of a balance loss's "
                f"seq_len ({value}): give whole sequences")
    return f"a run-time precondition failed (kind {kind}, value {value})"


_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


class CPUProgram(Closeable):
    """A moe module compiled for the CPU, callable on NumPy arrays."""

    def __init__(self, source, name="<source>", opt_level=2):
        api = lib()
        self._api = api
        self._engine = None
        self._record = None
        self._ir = None
        self._ir = Module(source, name=name)  # parsed in its own context
        module = self._ir._module
        self.signatures = _module_signatures(module)
        diags = Diagnostics()
        op = api.mlirModuleGetOperation(module)
        if not api.moeRunPipeline(op, MlirStringRef.of("moe-lower-to-cpu"),
                                  diags.callback, None).ok():
            raise MoeError(f"cannot lower {name} to the CPU", diags.all)
        engine = api.mlirExecutionEngineCreate(module, opt_level, 0, None, False)
        if not engine.ptr:
            raise MoeError(f"cannot JIT-compile {name} (LLVM code generation failed)")
        self._engine = engine
        # The program's moe_runtime_error ({kind, value}; MoeToLoops.h),
        # None when nothing in it can fail at run time.
        address = api.mlirExecutionEngineLookup(engine, MlirStringRef.of("moe_runtime_error"))
        self._record = (ctypes.c_int64 * 2).from_address(address) if address else None

    def close(self):
        if self._engine is not None:
            self._record = None
            self._api.mlirExecutionEngineDestroy(self._engine)
            self._engine = None
        if self._ir is not None:
            self._ir.close()
            self._ir = None


    def _prepare(self, index, spec, array, fn, dynamic):
        where = f"argument {index} of @{fn}"
        array = np.asarray(array)
        if spec.element == "bf16":
            if array.dtype == np.uint16:
                data = np.ascontiguousarray(array)
            elif array.dtype in (np.float32, np.float64):
                data = _to_bf16_bits(array.astype(np.float32))
            else:
                raise MoeError(f"{where}: expected {spec} (float32 or raw uint16 bf16), "
                               f"got a {array.dtype} array")
        else:
            if array.dtype != spec.storage:
                raise MoeError(f"{where}: expected {spec} ({spec.storage} elements), "
                               f"got a {array.dtype} array")
            data = np.ascontiguousarray(array)
        if data.ndim != spec.rank:
            raise MoeError(f"{where}: expected {spec} (rank {spec.rank}), "
                           f"got an array of shape {array.shape}")
        for d, (want, got) in enumerate(zip(spec.shape, data.shape)):
            if want is None:
                dynamic.append((index, d, got))
            elif want != got:
                raise MoeError(f"{where}: expected {spec}, got an array of shape "
                               f"{array.shape} (dim {d} must be {want})")
        desc = _descriptor_type(spec.rank)()
        desc.allocated = desc.aligned = data.ctypes.data
        desc.offset = 0
        itemsize = data.itemsize
        for d in range(spec.rank):
            desc.sizes[d] = data.shape[d]
            desc.strides[d] = data.strides[d] // itemsize
        return data, desc

    def run(self, fn, *arrays, check_dynamic=True):
        """Calls function `fn` on `arrays`; returns its results as NumPy
        arrays (a tuple when it has several)."""
        if self._engine is None:
            raise MoeError("the program is closed")
        sig = self.signatures.get(fn, "missing")
        if sig == "missing":
            raise MoeError(f"no public function @{fn}; have "
                           + ", ".join("@" + n for n in self.signatures))
        if sig is None:
            raise MoeError(f"@{fn} has arguments or results the CPU runner cannot pass")
        if len(arrays) != len(sig.inputs):
            raise MoeError(f"@{fn} takes {len(sig.inputs)} arguments, got {len(arrays)}")
        dynamic, keep, descs = [], [], []
        for i, (spec, array) in enumerate(zip(sig.inputs, arrays)):
            data, desc = self._prepare(i, spec, array, fn, dynamic)
            keep.append(data)
            descs.append(desc)
        if check_dynamic and len({size for _, _, size in dynamic}) > 1:
            detail = ", ".join(f"argument {i} dim {d} = {s}" for i, d, s in dynamic)
            raise MoeError(f"@{fn}: dynamic dimensions (the token count) disagree: {detail}")

        result_types = [_descriptor_type(r.rank) for r in sig.results]
        results = None
        packed = []
        pointer_cells = []
        if sig.results:
            if len(result_types) == 1:
                results = result_types[0]()
            else:
                results = type("Results", (ctypes.Structure,),
                               {"_fields_": [(f"r{i}", t) for i, t in enumerate(result_types)]})()
            pointer_cells.append(ctypes.c_void_p(ctypes.addressof(results)))
        for desc in descs:
            pointer_cells.append(ctypes.c_void_p(ctypes.addressof(desc)))
        packed = (ctypes.c_void_p * len(pointer_cells))(
            *[ctypes.addressof(cell) for cell in pointer_cells])

        address = self._api.mlirExecutionEngineLookupPacked(
            self._engine, MlirStringRef.of("_mlir_ciface_" + fn))
        if not address:
            raise MoeError(f"@{fn} was not compiled with a C interface")
        record = self._record
        if record is not None:
            record[0] = record[1] = 0
        ctypes.CFUNCTYPE(None, ctypes.c_void_p)(address)(packed)
        if record is not None and record[0] != 0:
            self._free_results(sig, result_types, results, descs)
            raise MoeError(f"@{fn}: " + _runtime_error_text(record[0], record[1], dynamic))

        if not sig.results:
            return None
        outputs = [self._read(spec, desc)
                   for spec, desc in zip(sig.results, self._result_descs(result_types, results))]
        self._free_results(sig, result_types, results, descs)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    @staticmethod
    def _result_descs(result_types, results):
        return [results] if len(result_types) == 1 else \
            [getattr(results, f"r{i}") for i in range(len(result_types))]

    def _free_results(self, sig, result_types, results, descs):
        # The results' buffers are the program's (malloc); inputs are ours.
        if not sig.results:
            return
        inputs = {d.allocated for d in descs}
        freed = set()
        for desc in self._result_descs(result_types, results):
            ptr = desc.allocated
            if ptr and ptr not in inputs and ptr not in freed:
                _libc.free(ptr)
                freed.add(ptr)

    @staticmethod
    def _read(spec, desc):
        storage = spec.storage
        shape = tuple(desc.sizes[d] for d in range(spec.rank))
        strides = tuple(desc.strides[d] * storage.itemsize for d in range(spec.rank))
        count = int(np.prod(shape)) if shape else 1
        if count == 0:
            out = np.zeros(shape, dtype=storage)
        else:
            base = desc.aligned + desc.offset * storage.itemsize
            span = 1 + sum((s - 1) * abs(st // storage.itemsize)
                           for s, st in zip(shape, strides))
            raw = np.ctypeslib.as_array(
                (ctypes.c_uint8 * (span * storage.itemsize)).from_address(base))
            out = np.lib.stride_tricks.as_strided(
                raw.view(storage), shape=shape, strides=strides).copy()
        if spec.element == "bf16":
            out = _from_bf16_bits(out)
        return out
