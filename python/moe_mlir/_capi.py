"""ctypes bindings of libMoeCAPI.so: the moe C API and the parts of the
upstream MLIR C API (IR, passes, ExecutionEngine) that the package uses.

The library is found through, in order: the MOE_CAPI_LIB environment
variable, a copy next to this package (`_lib/`), or the repository's
`build/lib/`.
"""

import ctypes
import os
import threading


class Diagnostic:
    """One compiler diagnostic, as the C API reports it (`MoeDiagnostic`):
    severity ("error", "warning", "note", "remark"), the message alone, the
    file position its location holds (file, line, column; None when it holds
    none), the whole location as MLIR prints it, and its notes (Diagnostic
    objects). `str()` formats it for display like the command-line tools:
    "file:line:col: error: message" with each note on a following line."""

    def __init__(self, severity, message, file=None, line=None, column=None,
                 location=None, notes=()):
        self.severity = severity
        self.message = message
        self.file, self.line, self.column = file, line, column
        self.location = location
        self.notes = list(notes)

    @property
    def text(self):
        """The diagnostic and its notes, formatted (as `str()`)."""
        lines = [self._header()]
        lines += [n._header() for n in self.notes]
        return "\n".join(lines)

    def _header(self):
        if self.file is not None:
            where = f"{self.file}:{self.line}:{self.column}: "
        elif self.location:
            where = f"{self.location}: "
        else:
            where = ""
        return f"{where}{self.severity}: {self.message}"

    def __repr__(self):
        return (f"Diagnostic({self.severity!r}, {self.message!r}, file={self.file!r}, "
                f"line={self.line!r}, column={self.column!r}, notes={self.notes!r})")

    def __str__(self):
        return self.text


class MoeError(Exception):
    """A failure reported by the compiler, carrying its diagnostics.

    `errors` holds the `Diagnostic` objects the compiler reported (severity,
    message, file, line, column, notes); `diagnostics` the same formatted for
    display, one "file:line:col: error: message" string per diagnostic
    (notes on following lines); `str(err)` is the message followed by them.
    """

    def __init__(self, message, diagnostics=()):
        self.errors = list(diagnostics)
        self.diagnostics = [d.text for d in self.errors]
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
        # The raw pointer: reading `data` as c_char_p would copy up to a NUL,
        # which the C API's strings need not have (or may hold inside).
        if not self.length:
            return ""
        address = ctypes.c_void_p.from_buffer(self, type(self).data.offset).value
        return ctypes.string_at(address, self.length).decode()


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

# enum MoeDiagnosticSeverity, indexed by value.
SEVERITIES = ("error", "warning", "note", "remark")


class MoeDiagnostic(ctypes.Structure):
    """struct MoeDiagnostic (moe-c/Tools.h); valid only during the callback."""

    def to_python(self):
        """A Diagnostic holding copies of the fields (and of the notes)."""
        severity = (SEVERITIES[self.severity] if 0 <= self.severity < len(SEVERITIES)
                    else f"severity {self.severity}")
        file = self.file.str() if self.file.length else None
        line, column = (self.line, self.column) if file is not None else (None, None)
        return Diagnostic(severity, self.message.str(), file, line, column,
                          self.location.str() or None,
                          [self.notes[i].to_python() for i in range(self.numNotes)])


MoeDiagnostic._fields_ = [
    ("severity", ctypes.c_int),
    ("message", MlirStringRef),
    ("file", MlirStringRef),
    ("line", ctypes.c_int32),
    ("column", ctypes.c_int32),
    ("location", MlirStringRef),
    ("numNotes", ctypes.c_ssize_t),
    ("notes", ctypes.POINTER(MoeDiagnostic)),
]

DiagnosticCallback = ctypes.CFUNCTYPE(None, ctypes.POINTER(MoeDiagnostic), ctypes.c_void_p)

# enum MoeCUDAOutput.
CUDA_OUTPUT_SOURCE = 0
CUDA_OUTPUT_HEADER = 1
CUDA_OUTPUT_MANIFEST = 2

_SIGNATURES = {
    "moeRegisterAllPasses": (None, []),
    "moeContextCreate": (MlirContext, []),
    "mlirContextDestroy": (None, [MlirContext]),
    "moeParseModule": (MlirModule, [MlirContext, MlirStringRef, MlirStringRef,
                                    DiagnosticCallback, ctypes.c_void_p]),
    "moeVerify": (MlirLogicalResult, [MlirOperation, DiagnosticCallback, ctypes.c_void_p]),
    "moeRunPipeline": (MlirLogicalResult, [MlirOperation, MlirStringRef,
                                           DiagnosticCallback, ctypes.c_void_p]),
    "moePrintOperation": (None, [MlirOperation, ctypes.c_bool, StringCallback,
                                 ctypes.c_void_p]),
    "moeTranslateToCUDA": (MlirLogicalResult, [MlirOperation, ctypes.c_int,
                                               StringCallback, ctypes.c_void_p,
                                               DiagnosticCallback, ctypes.c_void_p]),
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
    "mlirExecutionEngineLookup": (ctypes.c_void_p, [MlirExecutionEngine, MlirStringRef]),
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
    """Collects the diagnostics of a C API call, as `Diagnostic` objects, in
    `all`; pass `callback` (and None as its user data) to the call."""

    def __init__(self):
        self.all = []
        self.callback = DiagnosticCallback(
            lambda diag, _: self.all.append(diag.contents.to_python()))


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
