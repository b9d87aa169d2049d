"""Modules of the moe dialect: parse, verify, run passes, print, emit CUDA.

    from moe_mlir.ir import Module
    m = Module.load("examples/deepseek-v3.mlir")
    m.run("moe-expand-layer,canonicalize")
    print(m)                      # the IR
    cu, h = m.cuda(), m.cuda_header()

Failures raise `moe_mlir.MoeError`; its `errors` carry each diagnostic's
severity, message, location and notes, as the C API reports them.
"""

from ._capi import (CUDA_OUTPUT_HEADER, CUDA_OUTPUT_MANIFEST, CUDA_OUTPUT_SOURCE, Closeable,
                    Diagnostics, MlirStringRef, MoeError, TextSink, lib)


class Module(Closeable):
    """A parsed module with its own context. Passes change it in place;
    `copy()` gives an independent one."""

    def __init__(self, source, name="<source>"):
        api = lib()
        self._api = api
        self.name = name
        self._ctx = api.moeContextCreate()
        self._module = None
        diags = Diagnostics()
        module = api.moeParseModule(self._ctx, MlirStringRef.of(source),
                                    MlirStringRef.of(name), diags.callback, None)
        if not module.ptr:
            self.close()
            raise MoeError(f"cannot parse {name}", diags.all)
        self._module = module

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(f.read(), name=str(path))

    def _op(self):
        if self._module is None:
            raise MoeError(f"{self.name}: the module is closed")
        return self._api.mlirModuleGetOperation(self._module)

    def verify(self):
        """Raises MoeError with the verifier's diagnostics unless valid."""
        diags = Diagnostics()
        if not self._api.moeVerify(self._op(), diags.callback, None).ok():
            raise MoeError(f"{self.name} does not verify", diags.all)
        return self

    def run(self, pipeline):
        """Runs a pass pipeline ("moe-expand-layer,canonicalize" or
        "builtin.module(...)"), verifying after each pass; returns self.
        Remarks and warnings the passes emit are kept in `self.remarks`, as
        `Diagnostic` objects (`.message`, `.file`, `.line`, ...; `str()`
        formats one)."""
        diags = Diagnostics()
        ok = self._api.moeRunPipeline(self._op(), MlirStringRef.of(pipeline),
                                      diags.callback, None).ok()
        if not ok:
            raise MoeError(f"{self.name}: pipeline '{pipeline}' failed", diags.all)
        self.remarks = [d for d in diags.all if d.severity != "error"]
        return self

    def text(self, generic=False):
        sink = TextSink()
        self._api.moePrintOperation(self._op(), generic, sink.callback, None)
        return sink.text()

    def __str__(self):
        return self.text()

    def copy(self):
        return Module(self.text(generic=True), name=self.name)

    def _translate(self, kind, what):
        sink, diags = TextSink(), Diagnostics()
        ok = self._api.moeTranslateToCUDA(self._op(), kind, sink.callback, None,
                                          diags.callback, None).ok()
        if not ok:
            raise MoeError(f"{self.name}: cannot emit the CUDA {what}", diags.all)
        return sink.text()

    def cuda(self):
        """The CUDA source (.cu); moe-level input is lowered with
        moe-lower-to-cuda on a copy first."""
        return self._translate(CUDA_OUTPUT_SOURCE, "source")

    def cuda_header(self):
        """The matching header (.h) with the documented launchers."""
        return self._translate(CUDA_OUTPUT_HEADER, "header")

    def cuda_manifest(self):
        """The JSON manifest of the launcher ABI (docs/abi.md), the text
        moe_mlir.abi.Manifest.loads reads."""
        return self._translate(CUDA_OUTPUT_MANIFEST, "manifest")

    def functions(self):
        """Names of the func.func ops at the top level."""
        names = []
        api = self._api
        op = api.mlirBlockGetFirstOperation(api.mlirModuleGetBody(self._module))
        while op.ptr:
            if api.mlirIdentifierStr(api.mlirOperationGetName(op)).str() == "func.func":
                attr = api.mlirOperationGetAttributeByName(op, MlirStringRef.of("sym_name"))
                names.append(api.mlirStringAttrGetValue(attr).str())
            op = api.mlirOperationGetNextInBlock(op)
        return names

    def close(self):
        if self._module is not None:
            self._api.mlirModuleDestroy(self._module)
            self._module = None
        if self._ctx is not None:
            self._api.mlirContextDestroy(self._ctx)
            self._ctx = None

