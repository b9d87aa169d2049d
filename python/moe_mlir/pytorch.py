"""PyTorch on top of the emitted CUDA.

    import torch
    from moe_mlir.config import LayerConfig
    from moe_mlir.pytorch import MoELayer, Router, RouterTrainer

    cfg = LayerConfig.from_hf("config.json")
    layer = MoELayer(cfg).cuda()          # weights as parameters; forward(x)
    layer.load_weights(state_dict, layer=3)  # or a DeepSeek checkpoint's block
    y = layer(x)                          # x [T, hidden] bf16 on the GPU
    # an FP8 config (fp8=True, e.g. from V3's quantization_config) holds
    # e4m3 weights and their block scales as buffers
    # MoELayer(cfg, fuse_gather=True): the expert GEMMs gather the permuted
    # rows themselves (no row copy), a little slower on H100

    router = RouterTrainer(cfg, seq_len=4096)
    ids, weights, loss = router(logits)   # loss.backward() reaches the logits
    router.update_bias()                  # the aux-loss-free bias step

    # functional forms: route(cfg, logits, bias), router_loss(...), moe_layer(...)

A moe module becomes a `Library`: its CUDA source is compiled with nvcc
for the target its launcher manifest names (docs/abi.md; lowered for
default_target(), sm_90a on compute capability 9.0 and sm_80 elsewhere,
unless a `target` is given) into a shared library cached under
$MOE_MLIR_CACHE (default ~/.cache/moe_mlir), keyed by a hash of the source,
the runtime headers, the flags and the target; its launchers are bound from
the manifest (moe_mlir.abi) and called on the current CUDA stream. Emitting
the CUDA needs libMoeCAPI.so; a machine without it can load a prebuilt
`.cu` and its `.json` manifest (`Library.from_files`).
"""

import ctypes
import glob
import hashlib
import os
import subprocess
import sys
import tempfile
import threading

import torch

from ._capi import MoeError
from .abi import TORCH_DTYPES, Manifest, native_gencode
from .weights import as_torch, layer_weights, quantize_weight

_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
_lock = threading.Lock()


def include_dir():
    """The runtime headers (moe/Runtime/cuda/*.cuh): $MOE_MLIR_INCLUDE, the
    copy an installed package holds (moe_mlir/include), or the source
    tree's."""
    packaged = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
    default = packaged if os.path.isdir(packaged) else os.path.join(_ROOT, "include")
    path = os.environ.get("MOE_MLIR_INCLUDE", default)
    if not os.path.exists(os.path.join(path, "moe", "Runtime", "cuda", "Common.cuh")):
        raise MoeError(f"moe runtime headers not found under {path}: set MOE_MLIR_INCLUDE")
    return path


def _capability():
    if not torch.cuda.is_available():
        raise MoeError("no CUDA GPU is available to PyTorch")
    return tuple(torch.cuda.get_device_capability())


def default_target():
    """The moegpu target for the current GPU: sm_90a on compute capability
    9.0 (the wgmma kernels), else sm_80 (the portable ones)."""
    return "sm_90a" if _capability() == (9, 0) else "sm_80"


def lowering_pipeline(target=None, fuse_gather=False):
    """moe-lower-to-cuda for `target` (default_target() when None);
    fuse_gather as for MoELayer."""
    options = f"target={target or default_target()}"
    if fuse_gather:
        options += " fuse-gather=true"
    return f"moe-lower-to-cuda{{{options}}}"


def build(source, nvcc=None, target=None):
    """Compiles CUDA source into a shared library (cached); returns its path.
    `target` (the manifest's `abi.Target`) decides the architecture: an
    arch-specific one (sm_90a) needs exactly its GPU and is compiled for
    itself, another one a GPU at least as new and is compiled for the
    GPU's own; None compiles for the GPU's own."""
    nvcc = nvcc or os.environ.get("NVCC", "nvcc")
    inc = include_dir()
    gpu = _capability()
    gencode = target.gencode(gpu) if target is not None else native_gencode(gpu)
    flags = ["-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", "-I", inc,
             "-gencode", gencode]
    key = hashlib.sha256()
    key.update(source.encode())
    key.update(" ".join(flags).encode())
    # The target too: the flags do not always show it (an sm_80 module on
    # an H100 is built with sm_90a's flags).
    key.update(repr(target).encode())
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
            # The first build of a layer takes a minute or more: say so.
            print(f"moe_mlir: nvcc is compiling the emitted CUDA ({len(source) // 1024} KB, "
                  f"{gencode.split('code=')[-1]}) once; the library is cached in {cache}",
                  file=sys.stderr, flush=True)
            try:
                run = subprocess.run([nvcc] + flags + [cu, "-o", out],
                                     capture_output=True, text=True)
            except FileNotFoundError:
                raise MoeError(f"nvcc not found ({nvcc}): install CUDA or set NVCC") from None
            if run.returncode:
                raise MoeError(f"nvcc failed on the emitted CUDA:\n{run.stderr[-4000:]}")
            os.replace(out, so)  # atomic: a concurrent build sees all or nothing
    return so


def _torch_dtype(name):
    return getattr(torch, TORCH_DTYPES[name])


class Launcher:
    """One extern "C" launcher: call it with the input tensors; it returns the
    outputs (allocated, or the `out` tensors given). `spec` is its
    `abi.LauncherSpec` (parameters, shapes, workspace plan)."""

    def __init__(self, lib, spec):
        self.spec = spec
        self.name = spec.name
        self.params, self.inputs, self.outputs = spec.params, spec.inputs, spec.outputs
        self._fn = spec.bind(lib)
        # The library's own size function is the truth; the manifest's plan
        # formula (spec.workspace_bytes) is what the tests hold it to.
        self._size = spec.bind_workspace_size(lib)
        self._dtypes = {p.name: _torch_dtype(p.dtype) for p in spec.inputs + spec.outputs}
        self._tokens = spec.inputs.index(spec.tokens_input) if spec.tokens_input else None
        self._error = getattr(lib, "cudaGetErrorString", None)
        if self._error is not None:
            self._error.restype = ctypes.c_char_p
            self._error.argtypes = [ctypes.c_int]

    def _token_count(self, inputs):
        if self.spec.static_tokens is not None:
            return self.spec.static_tokens
        if self._tokens is None:
            raise MoeError(f"{self.name}: no input has num_tokens rows, so the token "
                           "count is unknown (call the launcher through ctypes)")
        p, t = self.inputs[self._tokens], inputs[self._tokens]
        if not isinstance(t, torch.Tensor):
            raise MoeError(f"{self.name}: '{p.name}' must be a torch.Tensor, "
                           f"got {type(t).__name__}")
        if t.dim() == 0:
            raise MoeError(f"{self.name}: '{p.name}' must have num_tokens rows, got a scalar")
        return t.shape[0]

    def __call__(self, *inputs, out=None):
        if len(inputs) != len(self.inputs):
            raise MoeError(f"{self.name}: expected {len(self.inputs)} inputs "
                           f"({', '.join(p.name for p in self.inputs)}), got {len(inputs)}")
        if out is not None and len(out) != len(self.outputs):
            raise MoeError(f"{self.name}: expected {len(self.outputs)} outputs "
                           f"({', '.join(p.name for p in self.outputs)}), got {len(out)}")
        T = self._token_count(inputs)
        self.spec.check_tokens(T)
        args = {}
        if not inputs:  # nothing to follow: the current device
            device = torch.device("cuda", torch.cuda.current_device())
        else:
            device = inputs[0].device if isinstance(inputs[0], torch.Tensor) else None
        for p, t in zip(self.inputs, inputs):
            self._check(p, t, T, device)
            args[p.name] = t
        # The call runs on the inputs' device (and its current stream),
        # whichever device is current.
        with torch.cuda.device(device):
            outs = list(out) if out is not None else [
                torch.empty(self.spec.shape(p, T), dtype=self._dtypes[p.name], device=device)
                for p in self.outputs]
            for p, t in zip(self.outputs, outs):
                self._check(p, t, T, device)
                args[p.name] = t
            workspace = self._workspace(T, device)
            ptrs = []
            for p in self.params:
                if p.role == "workspace":
                    ptrs.append(workspace.data_ptr())
                elif p.role == "num_tokens":
                    ptrs.append(T)
                elif p.role == "stream":
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
            first = f"'{self.inputs[0].name}'" if self.inputs else "the call"
            raise MoeError(f"{what} is on {t.device}, {first} on {device}: "
                           "all tensors of a call must be on one device")
        if t.dtype != self._dtypes[p.name]:
            raise MoeError(f"{what} must be {self._dtypes[p.name]}, got {t.dtype}")
        want = self.spec.shape(p, T)
        if list(t.shape) != want:
            raise MoeError(f"{what} must have shape {want}, got {list(t.shape)}")
        if not t.is_contiguous():
            raise MoeError(f"{what} must be contiguous")
        if t.data_ptr() % p.align:
            raise MoeError(f"{what} must be {p.align}-byte aligned "
                           f"(its data starts at {t.data_ptr():#x})")

    def workspace_bytes(self, T):
        """Bytes of device memory a call on T tokens uses beside its inputs
        and outputs (the library's size function)."""
        return int(self._size(T)) if self._size is not None else 0

    def _workspace(self, T, device):
        """A workspace from PyTorch's caching allocator on the current stream,
        as any PyTorch op's scratch memory: calls on other streams (running
        at the same time) and calls captured in a CUDA graph each get their
        own, and a freed one is reused by later calls on the same stream.
        The allocator's blocks are 512-byte aligned, more than any
        workspace asks."""
        if self._size is None:
            return None
        return torch.empty(max(self.workspace_bytes(T), 1), dtype=torch.uint8, device=device)


class Library:
    """The launchers of one compiled moe module, by function name: the CUDA
    source and its launcher manifest (the JSON text or an `abi.Manifest`),
    compiled for the GPU the manifest's target allows."""

    def __init__(self, source, manifest):
        if not isinstance(manifest, Manifest):
            manifest = Manifest.loads(manifest)
        self.source, self.manifest = source, manifest
        self.target = manifest.target
        self._lib = ctypes.CDLL(build(source, target=manifest.target))
        self.launchers = {spec.name: Launcher(self._lib, spec) for spec in manifest}

    @classmethod
    def from_module(cls, module, pipeline=None):
        """From a moe_mlir.ir.Module or MLIR text (needs libMoeCAPI.so);
        `pipeline` (e.g. lowering_pipeline("sm_90a", fuse_gather=True))
        lowers a copy of it first instead of the default moe-lower-to-cuda."""
        from .ir import Module
        if isinstance(module, str):
            module = Module(module)
        if pipeline:
            module = module.copy()
            module.run(pipeline)
        return cls(module.cuda(), module.cuda_manifest())

    @classmethod
    def from_files(cls, cu_path, manifest_path):
        """From a prebuilt .cu and its .json manifest (no libMoeCAPI.so)."""
        with open(cu_path) as f:
            source = f.read()
        return cls(source, Manifest.load(manifest_path))

    def __getitem__(self, name):
        if name not in self.launchers:
            raise MoeError(f"no launcher '{name}' (have: {', '.join(self.launchers)})")
        return self.launchers[name]


class MoELayer(torch.nn.Module):
    """A whole MoE layer (routing, dispatch, experts, shared expert, combine)
    as one CUDA call. Inference: the output does not carry gradients.
    Its tensors are the operands of config.layer_mlir() after x, by the
    same names: router, bias (a buffer), gate_up, down and the shared
    expert's. With config.fp8 the expert weights are float8_e4m3fn buffers
    with their f32 block scales (gate_up_scales, down_scales, ...), as
    DeepSeek-V3's checkpoint stores them; reset_parameters quantises random
    weights per 128 x 128 block and load_weights takes a checkpoint's
    tensors without dequantising. x is quantised per token and group of 128
    inside the layer.
    fuse_gather=True compiles it so that the expert GEMMs read the permuted
    rows from the input instead of a copy: the [T*k, hidden] rows are never
    written or read (the workspace is the same: its plan already shares that
    memory), at a few per cent of speed on H100; the output is bitwise the
    same.
    `target` ("sm_90a", "sm_80") is the moegpu target the layer is compiled
    for; default_target() when None."""

    def __init__(self, config, library=None, dtype=torch.bfloat16, device=None,
                 fuse_gather=False, target=None):
        super().__init__()
        self.config = c = config
        self.fuse_gather, self.target = fuse_gather, target
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if c.dtype != "bf16" or dtype != torch.bfloat16:
            raise MoeError("MoELayer: the CUDA layer takes bf16 activations and weights")
        self.name = c.name
        self.library = library
        E, H = c.experts, c.hidden
        self.router = torch.nn.Parameter(torch.empty(E, H, dtype=dtype, device=device),
                                         requires_grad=False)
        if c.bias:
            self.register_buffer("bias", torch.zeros(E, dtype=torch.float32, device=device))
        # The expert operands in the launcher's order: bf16 parameters, or
        # e4m3 buffers and their f32 scales.
        self._experts = list(c.weight_shapes())
        for name, shape in c.weight_shapes().items():
            if not c.fp8:
                setattr(self, name, torch.nn.Parameter(
                    torch.empty(shape, dtype=dtype, device=device), requires_grad=False))
            else:
                kind = torch.float32 if name.endswith("_scales") else torch.float8_e4m3fn
                self.register_buffer(name, torch.empty(shape, dtype=kind, device=device))
        self.reset_parameters()

    def reset_parameters(self, std=0.02):
        """Normal(0, std) weights; with FP8, normal weights quantised per
        128 x 128 block (quantize_weight), per expert."""
        torch.nn.init.normal_(self.router, std=std)
        for name in self._experts:
            if name.endswith("_scales"):
                continue
            t = getattr(self, name)
            if not self.config.fp8:
                torch.nn.init.normal_(t, std=std)
                continue
            scales = getattr(self, name + "_scales")
            for e in range(t.shape[0]):
                w = torch.randn(t.shape[1:], device=t.device) * std
                t[e], scales[e] = quantize_weight(w)

    def load_weights(self, state_dict, layer=None, prefix=None):
        """The layer's tensors from a HuggingFace state dict of any family
        moe_mlir.weights.layer_weights reads (torch tensors or NumPy arrays,
        per-expert or fused naming; layer picks model.layers.<layer>.mlp.
        or .block_sparse_moe.), with its checks, copied onto this layer's
        device; FP8 weights and scales stay FP8. For a safetensors
        checkpoint directory pass moe_mlir.weights.load_layer(config, path,
        layer). Returns self."""
        weights = as_torch(layer_weights(self.config, state_dict, layer=layer, prefix=prefix))
        with torch.no_grad():
            for name, t in weights.items():
                getattr(self, name).copy_(t)
        return self

    def _launcher(self):
        if self.library is None:
            self.library = Library.from_module(
                self.config.layer_mlir(name=self.name),
                lowering_pipeline(self.target, fuse_gather=self.fuse_gather))
        return self.library[self.name]

    def forward(self, x):
        if x.dim() != 2 or x.shape[1] != self.config.hidden:
            raise MoeError(f"MoELayer: x must be [T, {self.config.hidden}], got {list(x.shape)}")
        args = [x, self.router]
        if self.config.bias:
            args.append(self.bias)
        args += [getattr(self, name) for name in self._experts]
        return self._launcher()(*[a.detach() for a in args])


class Router(torch.nn.Module):
    """Routing alone: logits [T, E] f32 (plus the bias buffer) to ids and
    weights. `target` as for MoELayer."""

    def __init__(self, config, library=None, target=None):
        super().__init__()
        self.config, self.library, self.target = config, library, target
        if config.bias:
            self.register_buffer("bias", torch.zeros(config.experts, dtype=torch.float32))

    def forward(self, logits):
        if self.library is None:
            self.library = Library.from_module(self.config.routing_mlir(),
                                               lowering_pipeline(self.target))
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
    applies the bias step computed from this batch's loads. `target` as for
    MoELayer."""

    def __init__(self, config, seq_len=None, rate=1e-3, library=None, target=None):
        super().__init__()
        self.config, self.library, self.target = config, library, target
        self.seq_len, self.rate = seq_len, rate
        self._new_bias = None
        if config.bias:
            self.register_buffer("bias", torch.zeros(config.experts, dtype=torch.float32))

    def forward(self, logits):
        if self.library is None:
            self.library = Library.from_module(
                self.config.router_training_mlir(seq_len=self.seq_len, rate=self.rate),
                lowering_pipeline(self.target))
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


def _library_for(config, kind, target=None, **options):
    # The target is resolved first: libraries for two GPUs do not share a key.
    target = target or default_target()
    key = (repr(config), kind, target, tuple(sorted(options.items())))
    if key not in _libraries:
        if kind == "route":
            text = config.routing_mlir()
        elif kind == "train":
            text = config.router_training_mlir(**options)
        else:
            text = config.layer_mlir()
        fuse = kind == "layer" and bool(options.get("fuse_gather"))
        _libraries[key] = Library.from_module(text, lowering_pipeline(target, fuse_gather=fuse))
    return _libraries[key]


def route(config, logits, bias=None, target=None):
    """ids [T, k] int32 and weights [T, k] f32 of `config`'s routing
    (compiled for `target`, default_target() when None)."""
    if config.bias and bias is None:
        raise MoeError("route: this routing takes a bias [E] f32")
    args = [logits.detach()] + ([bias] if config.bias else [])
    return _library_for(config, "route", target)[config.name + "_route"](*args)


def router_loss(config, logits, bias=None, seq_len=None, target=None):
    """ids, weights and the auxiliary loss (differentiable with respect to
    `logits`) of one router training step."""
    if config.bias and bias is None:
        raise MoeError("router_loss: this routing takes a bias [E] f32")
    lib = _library_for(config, "train", target, seq_len=seq_len)
    args = [logits.detach()] + ([bias] if config.bias else [])
    outs = lib[config.name + "_router_train"](*args)
    return outs[0], outs[1], _LossThroughLogits.apply(logits, outs[2], outs[3])


def moe_layer(config, x, router, gate_up, down, bias=None, shared_gate_up=None,
              shared_down=None, fuse_gather=False, target=None):
    """The whole layer on explicit weights (inference); fuse_gather and
    target as for MoELayer."""
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
    return _library_for(config, "layer", target, fuse_gather=fuse_gather)[config.name](
        *[a.detach() for a in args])
