"""ctypes bindings of libMoeCAPI.so: the moe C API and the parts of the
upstream MLIR C API (IR, passes, ExecutionEngine) that the package uses.

The library is found through, in order: the MOE_CAPI_LIB environment
variable, a copy next to this package (`_lib/`), or the repository's
`build/lib/`.
"""

import ctypes
import os
import re
import threading


class Diagnostic:
    """One compiler diagnostic: severity ("error", "warning", "remark",
    "note"), message, and the location it names (file, line, column; None
    when the location is not a file position)."""

    _PATTERN = re.compile(r"^(?:(?P<file>.*?):(?P<line>\d+):(?P<col>\d+): )?"
                          r"(?:(?P<loc>.*?): )?(?P<sev>error|warning|remark|note): "
                          r"(?P<msg>.*)$", re.S)

    def __init__(self, text):
        self.text = text
        first = text.split("\n", 1)[0]
        m = self._PATTERN.match(first)
        self.file = self.line = self.column = None
        self.severity, self.message = "error", first
        if m:
            self.severity, self.message = m["sev"], m["msg"]
            if m["file"] is not None:
                self.file, self.line, self.column = m["file"], int(m["line"]), int(m["col"])

    def __repr__(self):
        return f"Diagnostic({self.text!r})"

    def __str__(self):
        return self.text


class MoeError(Exception):
    """A failure reported by the compiler, carrying its diagnostics.

    `diagnostics` holds one "file:line:col: error: message" string per
    diagnostic (notes appended); `errors` the same as `Diagnostic` objects
    with the message and the location split out; `str(err)` joins them.
    """

    def __init__(self, message, diagnostics=()):
        self.diagnostics = list(diagnostics)
        self.errors = [Diagnostic(d) for d in self.diagnostics]
        text = message
        if self.diagnostics:
            text += "\n" + "\n".join(self.diagnostics)
        super().__init__(text)

    @property
    def location(self):
        """(file, line, column) of the first diagnostic with one, or None."""
        for d in self.errors:
            if d.file is not None:
                return d.file, d.line, d.column
        return None


class MlirStringRef(ctypes.Structure):
    _fields_ = [("data", ctypes.c_char_p), ("length", ctypes.c_size_t)]

    @classmethod
    def of(cls, text):
        data = text.encode() if isinstance(text, str) else bytes(text)
        ref = cls(data, len(data))
        ref._keep = data  # the buffer must outlive the call
        return ref

    def str(self):
        return ctypes.string_at(self.data, self.length).decode()


def _handle(name):
    return type(name, (ctypes.Structure,), {"_fields_": [("ptr", ctypes.c_void_p)]})


MlirContext = _handle("MlirContext")
MlirModule = _handle("MlirModule")
MlirOperation = _handle("MlirOperation")
MlirBlock = _handle("MlirBlock")
MlirAttribute = _handle("MlirAttribute")
MlirIdentifier = _handle("MlirIdentifier")
MlirExecutionEngine = _handle("MlirExecutionEngine")


class MlirLogicalResult(ctypes.Structure):
    _fields_ = [("value", ctypes.c_int8)]

    def ok(self):
        return self.value != 0


StringCallback = ctypes.CFUNCTYPE(None, MlirStringRef, ctypes.c_void_p)

_SIGNATURES = {
    "moeRegisterAllPasses": (None, []),
    "moeContextCreate": (MlirContext, []),
    "mlirContextDestroy": (None, [MlirContext]),
    "moeParseModule": (MlirModule, [MlirContext, MlirStringRef, MlirStringRef,
                                    StringCallback, ctypes.c_void_p]),
    "moeVerify": (MlirLogicalResult, [MlirOperation, StringCallback, ctypes.c_void_p]),
    "moeRunPipeline": (MlirLogicalResult, [MlirOperation, MlirStringRef,
                                           StringCallback, ctypes.c_void_p]),
    "moePrintOperation": (None, [MlirOperation, ctypes.c_bool, StringCallback,
                                 ctypes.c_void_p]),
    "moeTranslateToCUDA": (MlirLogicalResult, [MlirOperation, ctypes.c_bool,
                                               StringCallback, ctypes.c_void_p,
                                               StringCallback, ctypes.c_void_p]),
    "mlirModuleDestroy": (None, [MlirModule]),
    "mlirModuleGetOperation": (MlirOperation, [MlirModule]),
    "mlirModuleGetBody": (MlirBlock, [MlirModule]),
    "mlirBlockGetFirstOperation": (MlirOperation, [MlirBlock]),
    "mlirOperationGetNextInBlock": (MlirOperation, [MlirOperation]),
    "mlirOperationGetName": (MlirIdentifier, [MlirOperation]),
    "mlirIdentifierStr": (MlirStringRef, [MlirIdentifier]),
    "mlirOperationGetAttributeByName": (MlirAttribute, [MlirOperation, MlirStringRef]),
    "mlirStringAttrGetValue": (MlirStringRef, [MlirAttribute]),
    "mlirAttributePrint": (None, [MlirAttribute, StringCallback, ctypes.c_void_p]),
    "mlirOperationClone": (MlirOperation, [MlirOperation]),
    "mlirModuleFromOperation": (MlirModule, [MlirOperation]),
    "mlirExecutionEngineCreate": (MlirExecutionEngine, [
        MlirModule, ctypes.c_int, ctypes.c_int, ctypes.POINTER(MlirStringRef),
        ctypes.c_bool]),
    "mlirExecutionEngineDestroy": (None, [MlirExecutionEngine]),
    "mlirExecutionEngineLookupPacked": (ctypes.c_void_p, [MlirExecutionEngine,
                                                          MlirStringRef]),
}

_lib = None
_lock = threading.Lock()


def _find_library():
    env = os.environ.get("MOE_CAPI_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "_lib", "libMoeCAPI.so"),
                      os.path.join(here, "..", "..", "build", "lib", "libMoeCAPI.so")):
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    raise MoeError("libMoeCAPI.so not found: build the project "
                   "(./scripts/build.sh) or set MOE_CAPI_LIB")


def lib():
    """The loaded library, with argument and result types declared."""
    global _lib
    with _lock:
        if _lib is None:
            path = _find_library()
            try:
                handle = ctypes.CDLL(path)
            except OSError as err:
                raise MoeError(f"cannot load {path}: {err}") from None
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(handle, name)
                fn.restype = restype
                fn.argtypes = argtypes
            handle.moeRegisterAllPasses()
            _lib = handle
    return _lib


class Diagnostics:
    """Collects diagnostic strings through a C callback."""

    def __init__(self):
        self.messages = []
        self.callback = StringCallback(
            lambda text, _: self.messages.append(text.str()))


class TextSink:
    """Collects printed text through a C callback."""

    def __init__(self):
        self.chunks = []
        self.callback = StringCallback(
            lambda text, _: self.chunks.append(text.str()))

    def text(self):
        return "".join(self.chunks)


class Closeable:
    """Objects owning C handles: `close()` frees them; also on garbage
    collection and at the end of a `with` block."""

    def close(self):
        raise NotImplementedError

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
