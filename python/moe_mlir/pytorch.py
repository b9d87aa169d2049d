"""PyTorch on top of the emitted CUDA.

    import torch
    from moe_mlir.config import LayerConfig
    from moe_mlir.pytorch import MoELayer, Router, RouterTrainer

    cfg = LayerConfig.from_hf("config.json")
    layer = MoELayer(cfg).cuda()          # weights as parameters; forward(x)
    y = layer(x)                          # x [T, hidden] bf16 on the GPU
    # MoELayer(cfg, fuse_gather=True): no [T*k, hidden] rows buffer in the
    # workspace (the expert GEMMs gather the permuted rows), a little slower

    router = RouterTrainer(cfg, seq_len=4096)
    ids, weights, loss = router(logits)   # loss.backward() reaches the logits
    router.update_bias()                  # the aux-loss-free bias step

    # functional forms: route(cfg, logits, bias), router_loss(...), moe_layer(...)

A moe module becomes a `Library`: its CUDA source is compiled with nvcc
into a shared library cached under $MOE_MLIR_CACHE (default
~/.cache/moe_mlir), keyed by a hash of the source, the runtime headers, the
flags and the GPU architecture; its launchers are read from the generated
header and called on the current CUDA stream. Emitting the CUDA needs
libMoeCAPI.so; a machine without it can load prebuilt `.cu`/`.h` files
(`Library.from_files`).
"""

import ctypes
import glob
import hashlib
import os
import re
import subprocess
import tempfile
import threading

import torch

from ._capi import MoeError

_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
_DTYPES = {"float": torch.float32, "int32_t": torch.int32, "__nv_bfloat16": torch.bfloat16,
           "__half": torch.float16, "bool": torch.bool, "double": torch.float64}
_lock = threading.Lock()


def include_dir():
    """The runtime headers (moe/Runtime/cuda/*.cuh)."""
    path = os.environ.get("MOE_MLIR_INCLUDE", os.path.join(_ROOT, "include"))
    if not os.path.exists(os.path.join(path, "moe", "Runtime", "cuda", "Common.cuh")):
        raise MoeError(f"moe runtime headers not found under {path}: set MOE_MLIR_INCLUDE")
    return path


def _arch():
    if not torch.cuda.is_available():
        raise MoeError("no CUDA GPU is available to PyTorch")
    major, minor = torch.cuda.get_device_capability()
    suffix = "a" if major >= 9 else ""
    return f"compute_{major}{minor}{suffix}", f"sm_{major}{minor}{suffix}"


def build(source, nvcc=None):
    """Compiles CUDA source into a shared library (cached); returns its path."""
    nvcc = nvcc or os.environ.get("NVCC", "nvcc")
    inc = include_dir()
    compute, sm = _arch()
    flags = ["-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", "-I", inc,
             "-gencode", f"arch={compute},code={sm}"]
    key = hashlib.sha256()
    key.update(source.encode())
    key.update(" ".join(flags[:-2] + [compute, sm]).encode())
    for header in sorted(glob.glob(os.path.join(inc, "moe", "Runtime", "cuda", "*.cuh"))):
        with open(header, "rb") as f:
            key.update(f.read())
    cache = os.environ.get("MOE_MLIR_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache", "moe_mlir"))
    os.makedirs(cache, exist_ok=True)
    so = os.path.join(cache, key.hexdigest()[:24] + ".so")
    with _lock:
        if os.path.exists(so):
            return so
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            cu = os.path.join(tmp, "kernels.cu")
            with open(cu, "w") as f:
                f.write(source)
            out = os.path.join(tmp, "kernels.so")
            try:
                run = subprocess.run([nvcc] + flags + [cu, "-o", out],
                                     capture_output=True, text=True)
            except FileNotFoundError:
                raise MoeError(f"nvcc not found ({nvcc}): install CUDA or set NVCC") from None
            if run.returncode:
                raise MoeError(f"nvcc failed on the emitted CUDA:\n{run.stderr[-4000:]}")
            os.replace(out, so)  # atomic: a concurrent build sees all or nothing
    return so


class Param:
    def __init__(self, ctype, name, doc):
        self.ctype, self.name = ctype, name
        self.const = ctype.startswith("const ")
        self.pointer = ctype.endswith("*")
        base = ctype.replace("const ", "").rstrip("*").strip()
        self.dtype = _DTYPES.get(base)
        self.shape = None  # [str] from the header's comment
        self.output = False
        if doc:
            m = re.match(r"\[(.*)\] \S+ \((input|output)\)", doc)
            if m:
                self.shape = [d.strip() for d in m.group(1).split(",")] if m.group(1) else []
                self.output = m.group(2) == "output"


class Launcher:
    """One extern "C" launcher: call it with the input tensors; it returns the
    outputs (allocated, or the `out` tensors given)."""

    def __init__(self, lib, name, params, workspace_size):
        self.name = name
        self.params = params
        self.inputs = [p for p in params if p.pointer and p.shape is not None and not p.output]
        self.outputs = [p for p in params if p.output]
        self._fn = getattr(lib, name)
        self._fn.argtypes = [ctypes.c_void_p if p.pointer else
                             (ctypes.c_int64 if p.ctype == "int64_t" else ctypes.c_void_p)
                             for p in params]
        self._fn.restype = ctypes.c_int
        self._size = workspace_size
        self._error = getattr(lib, "cudaGetErrorString", None)
        if self._error is not None:
            self._error.restype = ctypes.c_char_p
            self._error.argtypes = [ctypes.c_int]

    def _dims(self, shape, T):
        dims = []
        for d in shape:
            try:
                dims.append(int(eval(d, {"__builtins__": {}}, {"num_tokens": T})))
            except Exception:
                raise MoeError(f"{self.name}: cannot read the dimension '{d}'") from None
        return dims

    def __call__(self, *inputs, out=None):
        if len(inputs) != len(self.inputs):
            raise MoeError(f"{self.name}: expected {len(self.inputs)} inputs "
                           f"({', '.join(p.name for p in self.inputs)}), got {len(inputs)}")
        T = None
        for p, t in zip(self.inputs, inputs):
            if p.shape and p.shape[0] == "num_tokens" and isinstance(t, torch.Tensor):
                T = t.shape[0]
                break
        if T is None:
            raise MoeError(f"{self.name}: no input tells the token count")
        args = {}
        device = inputs[0].device if isinstance(inputs[0], torch.Tensor) else None
        for p, t in zip(self.inputs, inputs):
            self._check(p, t, T, device)
            args[p.name] = t
        # The call runs on the inputs' device (and its current stream),
        # whichever device is current.
        with torch.cuda.device(device):
            outs = list(out) if out is not None else [
                torch.empty(self._dims(p.shape, T), dtype=p.dtype, device=device)
                for p in self.outputs]
            for p, t in zip(self.outputs, outs):
                self._check(p, t, T, device)
                args[p.name] = t
            ptrs = []
            workspace = self._workspace(T, device)
            for p in self.params:
                if p.name == "workspace":
                    ptrs.append(workspace.data_ptr() if workspace is not None else None)
                elif p.name == "num_tokens":
                    ptrs.append(T)
                elif p.name == "stream":
                    ptrs.append(torch.cuda.current_stream(device).cuda_stream)
                else:
                    ptrs.append(args[p.name].data_ptr())
            err = self._fn(*ptrs)
        if err:
            text = self._error(err).decode() if self._error else f"error {err}"
            raise MoeError(f"{self.name}: CUDA {text}")
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _check(self, p, t, T, device):
        what = f"{self.name}: '{p.name}'"
        if not isinstance(t, torch.Tensor):
            raise MoeError(f"{what} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_cuda:
            raise MoeError(f"{what} must be on a CUDA device, got {t.device}")
        if t.device != device:
            raise MoeError(f"{what} is on {t.device}, '{self.inputs[0].name}' on {device}: "
                           "all tensors of a call must be on one device")
        if p.dtype is not None and t.dtype != p.dtype:
            raise MoeError(f"{what} must be {p.dtype}, got {t.dtype}")
        want = self._dims(p.shape, T)
        if list(t.shape) != want:
            raise MoeError(f"{what} must have shape {want}, got {list(t.shape)}")
        if not t.is_contiguous():
            raise MoeError(f"{what} must be contiguous")

    def workspace_bytes(self, T):
        """Bytes of device memory a call on T tokens uses beside its inputs
        and outputs."""
        return int(self._size(T)) if self._size is not None else 0

    def _workspace(self, T, device):
        """A workspace from PyTorch's caching allocator on the current stream,
        as any PyTorch op's scratch memory: calls on other streams (running
        at the same time) and calls captured in a CUDA graph each get their
        own, and a freed one is reused by later calls on the same stream."""
        if self._size is None:
            return None
        return torch.empty(max(self.workspace_bytes(T), 1), dtype=torch.uint8, device=device)


class Library:
    """The launchers of one compiled moe module, by function name."""

    def __init__(self, source, header):
        self.source, self.header = source, header
        self._lib = ctypes.CDLL(build(source))
        self.launchers = {}
        docs, proto = {}, re.compile(r"^(cudaError_t|size_t) (\w+)\((.*)\);$")
        for line in header.splitlines():
            m = re.match(r"^//  (\w+): (.*)$", line)
            if m:
                docs[m.group(1)] = m.group(2)
                continue
            m = proto.match(line)
            if not m:
                continue
            kind, name, params = m.groups()
            if kind == "size_t":
                docs = {}
                continue
            parsed = []
            for piece in params.split(", "):
                ctype, pname = piece.rsplit(" ", 1)
                parsed.append(Param(ctype, pname, docs.get(pname)))
            size = getattr(self._lib, name + "_workspace_size", None)
            if size is not None:
                size.argtypes = [ctypes.c_int64]
                size.restype = ctypes.c_size_t
            self.launchers[name] = Launcher(self._lib, name, parsed, size)
            docs = {}

    @classmethod
    def from_module(cls, module, pipeline=None):
        """From a moe_mlir.ir.Module or MLIR text (needs libMoeCAPI.so);
        `pipeline` (e.g. "moe-lower-to-cuda{fuse-gather=true}") lowers a
        copy of it first instead of the default moe-lower-to-cuda."""
        from .ir import Module
        if isinstance(module, str):
            module = Module(module)
        if pipeline:
            module = module.copy()
            module.run(pipeline)
        return cls(module.cuda(), module.cuda_header())

    @classmethod
    def from_files(cls, cu_path, h_path):
        with open(cu_path) as f, open(h_path) as g:
            return cls(f.read(), g.read())

    def __getitem__(self, name):
        if name not in self.launchers:
            raise MoeError(f"no launcher '{name}' (have: {', '.join(self.launchers)})")
        return self.launchers[name]


FUSE_GATHER = "moe-lower-to-cuda{fuse-gather=true}"


class MoELayer(torch.nn.Module):
    """A whole MoE layer (routing, dispatch, experts, shared expert, combine)
    as one CUDA call. Inference: the output does not carry gradients.
    fuse_gather=True compiles it so that the expert GEMMs read the permuted
    rows from the input: the workspace has no [T*k, hidden] rows buffer (7.5
    GB for DeepSeek-V3 at 65536 tokens), at a few per cent of speed."""

    def __init__(self, config, library=None, dtype=torch.bfloat16, device=None,
                 fuse_gather=False):
        super().__init__()
        self.config = c = config
        self.fuse_gather = fuse_gather
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if c.dtype != "bf16" or dtype != torch.bfloat16:
            raise MoeError("MoELayer: the CUDA layer takes bf16 activations and weights")
        self.name = c.name
        self.library = library
        E, H, I, Is = c.experts, c.hidden, c.intermediate, c.shared_intermediate
        p = lambda *s: torch.nn.Parameter(torch.empty(*s, dtype=dtype, device=device),
                                          requires_grad=False)
        self.router = p(E, H)
        self.gate_up, self.down = p(E, 2 * I, H), p(E, H, I)
        if c.bias:
            self.register_buffer("bias", torch.zeros(E, dtype=torch.float32, device=device))
        if Is:
            self.shared_gate_up, self.shared_down = p(1, 2 * Is, H), p(1, H, Is)
        self.reset_parameters()

    def reset_parameters(self, std=0.02):
        for t in self.parameters():
            torch.nn.init.normal_(t, std=std)

    def _launcher(self):
        if self.library is None:
            self.library = Library.from_module(self.config.layer_mlir(name=self.name),
                                               FUSE_GATHER if self.fuse_gather else None)
        return self.library[self.name]

    def forward(self, x):
        if x.dim() != 2 or x.shape[1] != self.config.hidden:
            raise MoeError(f"MoELayer: x must be [T, {self.config.hidden}], got {list(x.shape)}")
        args = [x, self.router]
        if self.config.bias:
            args.append(self.bias)
        args += [self.gate_up, self.down]
        if self.config.shared_intermediate:
            args += [self.shared_gate_up, self.shared_down]
        return self._launcher()(*[a.detach() for a in args])


class Router(torch.nn.Module):
    """Routing alone: logits [T, E] f32 (plus the bias buffer) to ids and
    weights."""

    def __init__(self, config, library=None):
        super().__init__()
        self.config, self.library = config, library
        if config.bias:
            self.register_buffer("bias", torch.zeros(config.experts, dtype=torch.float32))

    def forward(self, logits):
        if self.library is None:
            self.library = Library.from_module(self.config.routing_mlir())
        args = [logits.detach()] + ([self.bias] if self.config.bias else [])
        return self.library[self.config.name + "_route"](*args)


class _LossThroughLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, loss, grad):
        ctx.save_for_backward(grad)
        return loss.clone()

    @staticmethod
    def backward(ctx, upstream):
        (grad,) = ctx.saved_tensors
        return upstream * grad, None, None


class RouterTrainer(torch.nn.Module):
    """A router training step: ids, weights and the auxiliary loss; the loss
    is differentiable with respect to the logits (its gradient comes from
    the same kernel launch). With an aux-loss-free bias, `update_bias()`
    applies the bias step computed from this batch's loads."""

    def __init__(self, config, seq_len=None, rate=1e-3, library=None):
        super().__init__()
        self.config, self.library = config, library
        self.seq_len, self.rate = seq_len, rate
        self._new_bias = None
        if config.bias:
            self.register_buffer("bias", torch.zeros(config.experts, dtype=torch.float32))

    def forward(self, logits):
        if self.library is None:
            self.library = Library.from_module(
                self.config.router_training_mlir(seq_len=self.seq_len, rate=self.rate))
        T = logits.shape[0]
        if self.seq_len and T % self.seq_len:
            raise MoeError(f"RouterTrainer: {T} tokens are not whole sequences of "
                           f"{self.seq_len}")
        args = [logits.detach()] + ([self.bias] if self.config.bias else [])
        outs = self.library[self.config.name + "_router_train"](*args)
        ids, weights, loss, grad = outs[:4]
        if self.config.bias:
            self._new_bias = outs[4]
        return ids, weights, _LossThroughLogits.apply(logits, loss, grad)

    @torch.no_grad()
    def update_bias(self):
        if not self.config.bias:
            raise MoeError("RouterTrainer.update_bias: the routing has no bias")
        if self._new_bias is None:
            raise MoeError("RouterTrainer.update_bias: run a forward step first")
        self.bias.copy_(self._new_bias)
        self._new_bias = None


# -- functional forms ---------------------------------------------------------

_libraries = {}


def _library_for(config, kind, **options):
    key = (repr(config), kind, tuple(sorted(options.items())))
    if key not in _libraries:
        if kind == "route":
            text = config.routing_mlir()
        elif kind == "train":
            text = config.router_training_mlir(**options)
        else:
            text = config.layer_mlir()
        fuse = kind == "layer" and options.get("fuse_gather")
        _libraries[key] = Library.from_module(text, FUSE_GATHER if fuse else None)
    return _libraries[key]


def route(config, logits, bias=None):
    """ids [T, k] int32 and weights [T, k] f32 of `config`'s routing."""
    if config.bias and bias is None:
        raise MoeError("route: this routing takes a bias [E] f32")
    args = [logits.detach()] + ([bias] if config.bias else [])
    return _library_for(config, "route")[config.name + "_route"](*args)


def router_loss(config, logits, bias=None, seq_len=None):
    """ids, weights and the auxiliary loss (differentiable with respect to
    `logits`) of one router training step."""
    if config.bias and bias is None:
        raise MoeError("router_loss: this routing takes a bias [E] f32")
    lib = _library_for(config, "train", seq_len=seq_len)
    args = [logits.detach()] + ([bias] if config.bias else [])
    outs = lib[config.name + "_router_train"](*args)
    return outs[0], outs[1], _LossThroughLogits.apply(logits, outs[2], outs[3])


def moe_layer(config, x, router, gate_up, down, bias=None, shared_gate_up=None,
              shared_down=None, fuse_gather=False):
    """The whole layer on explicit weights (inference); fuse_gather as for
    MoELayer."""
    args = [x, router]
    if config.bias:
        if bias is None:
            raise MoeError("moe_layer: this routing takes a bias [E] f32")
        args.append(bias)
    args += [gate_up, down]
    if config.shared_intermediate:
        if shared_gate_up is None or shared_down is None:
            raise MoeError("moe_layer: this layer has a shared expert: pass "
                           "shared_gate_up and shared_down")
        args += [shared_gate_up, shared_down]
    return _library_for(config, "layer", fuse_gather=fuse_gather)[config.name](
        *[a.detach() for a in args])
