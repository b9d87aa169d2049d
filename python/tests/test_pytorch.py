"""moe_mlir.pytorch on a GPU: routing, the router training step (loss,
autograd gradient, bias update) and the whole layer against PyTorch
references; argument checking. Skipped where PyTorch or a CUDA GPU is
missing (the reason is printed). On a machine without LLVM, run
bench/pytorch/prepare.py elsewhere and point MOE_MLIR_PREBUILT at its output.
"""

import os

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
if not torch.cuda.is_available():
    pytest.skip("no CUDA GPU: the PyTorch integration runs on a GPU machine",
                allow_module_level=True)

import torch.nn.functional as F  # noqa: E402

import pytorch_cases as cases  # noqa: E402
from moe_mlir import MoeError  # noqa: E402
from moe_mlir.abi import Target  # noqa: E402
from moe_mlir.pytorch import (Library, MoELayer, Router, RouterTrainer, build,  # noqa: E402
                              default_target, lowering_pipeline)

DEV = torch.device("cuda")


def library(name):
    prebuilt = os.environ.get("MOE_MLIR_PREBUILT")
    if prebuilt:
        return Library.from_files(os.path.join(prebuilt, name + ".cu"),
                                  os.path.join(prebuilt, name + ".json"))
    return Library.from_module(cases.CASES()[name], cases.pipeline(name, default_target()))


def torch_route(z, bias, c):
    s = torch.sigmoid(z) if c.score == "sigmoid" else torch.softmax(z.double(), -1).float()
    sel = s + bias if bias is not None else s
    T = z.shape[0]
    if c.groups > 1:
        g = sel.view(T, c.groups, -1)
        kind, n = c.group_score
        gs = g.max(-1).values if kind == "max" else g.topk(n, dim=-1).values.sum(-1)
        keep = torch.zeros(T, c.groups, dtype=torch.bool, device=z.device)
        keep.scatter_(1, gs.topk(c.group_topk, dim=-1).indices, True)
        sel = sel.masked_fill(~keep.repeat_interleave(c.experts // c.groups, 1), float("-inf"))
    ids = sel.topk(c.k, dim=-1).indices
    w = s.gather(1, ids)
    if c.normalize:
        w = w / w.sum(-1, keepdim=True)
    return ids, w * c.scale


def torch_loss(z, ids, c, seq):
    """The config's auxiliary loss by autograd: V3 sequence-wise on the plain
    top-k, V2 expert-level on the selected ids."""
    z = z.detach().requires_grad_(True)
    T, E, K = z.shape[0], c.experts, c.k
    if c.bias:
        s = torch.sigmoid(z)
        top = torch.topk(s.detach(), K, dim=-1).indices
        p = (s / s.sum(-1, keepdim=True)).view(T // seq, seq, E).mean(1)
    else:
        s = torch.softmax(z, -1)
        top = ids.long()
        p = s.view(T // seq, seq, E).mean(1)
    counts = torch.zeros(T // seq, E, device=z.device).scatter_add_(
        1, top.reshape(T // seq, -1), torch.ones(T // seq, seq * K, device=z.device))
    loss = c.aux_loss_alpha * ((counts * (E / (K * seq))) * p).sum(-1).mean()
    loss.backward()
    return loss.detach(), z.grad


def test_routing_matches_pytorch():
    c = cases.v3()
    router = Router(c, library=library("v3_route")).to(DEV)
    router.bias.normal_(0, 0.02)
    z = torch.randn(4096, c.experts, device=DEV) * 2
    ids, w = router(z)
    rid, rw = torch_route(z, router.bias, c)
    same = (ids.sort(-1).values == rid.int().sort(-1).values).all(-1)
    assert same.float().mean() > 0.999, "ids differ beyond near-ties"
    order = lambda i, x: x.gather(1, i.argsort(-1))
    torch.testing.assert_close(order(ids.long(), w)[same], order(rid, rw)[same],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("which", ["v3", "v2"])
def test_router_training_step(which):
    c = getattr(cases, which)()
    trainer = RouterTrainer(c, seq_len=cases.SEQ, library=library(which + "_train")).to(DEV)
    z = (torch.randn(2 * cases.SEQ, c.experts, device=DEV) * 2).requires_grad_(True)
    ids, w, loss = trainer(z)
    loss.backward()
    want_loss, want_grad = torch_loss(z, ids, c, cases.SEQ)
    torch.testing.assert_close(loss.detach(), want_loss, rtol=1e-5, atol=1e-9)
    scale = want_grad.abs().max()
    assert (z.grad - want_grad).abs().max() <= 1e-5 * scale
    if c.bias:
        before = trainer.bias.clone()
        counts = torch.bincount(ids.view(-1).long(), minlength=c.experts).float()
        trainer.update_bias()
        step = torch.sign(counts.mean() - counts) * 1e-3
        torch.testing.assert_close(trainer.bias, before + step)
        with pytest.raises(MoeError, match="run a forward step first"):
            trainer.update_bias()


def torch_layer(x, layer):
    c = layer.config
    z = x.float() @ layer.router.float().T
    ids, w = torch_route(z, layer.bias if c.bias else None, c)
    out = torch.zeros(x.shape[0], c.hidden, device=DEV)

    def ffn(xe, gu, d):
        g, u = (xe.float() @ gu.float().T).chunk(2, -1)
        h = (F.silu(g) * u).to(torch.bfloat16)
        return h.float() @ d.float().T
    for e in range(c.experts):
        t, slot = (ids == e).nonzero(as_tuple=True)
        if len(t):
            out.index_add_(0, t, ffn(x[t], layer.gate_up[e], layer.down[e]) * w[t, slot][:, None])
    out += ffn(x, layer.shared_gate_up[0], layer.shared_down[0])
    return out


def test_whole_layer_matches_pytorch():
    layer = MoELayer(cases.small(), library=library("small_layer"))
    layer.reset_parameters(std=0.06)
    x = torch.randn(300, 256, device=DEV).to(torch.bfloat16)
    y = layer(x)
    assert y.dtype == torch.bfloat16 and y.shape == (300, 256)
    want = torch_layer(x, layer)
    err = ((y.float() - want).norm() / want.norm()).item()
    assert err <= 1e-2, err
    assert torch.equal(layer(x).view(torch.int16), y.view(torch.int16))  # deterministic


def dequantised(layer):
    """The FP8 layer's tensors with the expert weights dequantised (f32)."""
    from types import SimpleNamespace
    deq = {}
    for name in layer._experts:
        if name.endswith("_scales"):
            continue
        q, s = getattr(layer, name), getattr(layer, name + "_scales")
        full = s.repeat_interleave(128, 1).repeat_interleave(128, 2)
        deq[name] = q.float() * full
    return SimpleNamespace(config=layer.config, router=layer.router, bias=layer.bias, **deq)


def test_fp8_layer_matches_dequantised_pytorch():
    # FP8 weights and activations: x is quantised per token and 128 inside
    # the layer (up to 2^-4 relative per element), the GEMMs promote every
    # 128 of K; against PyTorch on the dequantised weights and the
    # unquantised x the per-token error stays within 0.1 (2.9e-2 measured
    # on the small layer in bench/fp8), bitwise the same run to run.
    layer = MoELayer(cases.small_fp8(), library=library("small_fp8_layer"))
    assert layer.gate_up.dtype == torch.float8_e4m3fn and layer.gate_up_scales.shape == (64, 2, 2)
    assert layer.router.dtype == torch.bfloat16
    layer.reset_parameters(std=0.06)
    x = torch.randn(300, 256, device=DEV).to(torch.bfloat16)
    y = layer(x)
    assert y.dtype == torch.bfloat16 and y.shape == (300, 256)
    want = torch_layer(x, dequantised(layer))
    err = ((y.float() - want).norm(dim=1) / want.norm(dim=1))
    assert torch.isfinite(y.float()).all()
    assert err.max().item() <= 0.1, err.max().item()
    assert err.mean().item() >= 1e-3  # the activations really are FP8
    assert torch.equal(layer(x).view(torch.int16), y.view(torch.int16))


def test_quantize_weight_matches_the_oracle():
    import fp8_reference as oracle
    from moe_mlir.weights import quantize_weight
    g = torch.Generator(device=DEV).manual_seed(3)
    w = torch.randn(300, 200, device=DEV, generator=g) * 0.05
    w[128:256, :128] = 0.0  # an all-zero block: scale 1e-4 / 448
    w[5, 7] = 3.0
    q, s = quantize_weight(w)
    bits, scale = oracle.weight_quant(w.cpu().numpy())
    assert q.dtype == torch.float8_e4m3fn and s.shape == (3, 2)
    assert (q.view(torch.uint8).cpu().numpy() == bits).all()
    assert (s.cpu().numpy() == scale).all()
    with pytest.raises(MoeError, match="must be 2-D"):
        quantize_weight(w[0])


def hf_state_dict(layer, prefix):
    """The layer's tensors under a DeepSeek checkpoint's names."""
    c, sd = layer.config, {prefix + "gate.weight": layer.router.detach().clone()}
    if c.bias:
        sd[prefix + "gate.e_score_correction_bias"] = layer.bias.clone()

    def ffn(base, gu, d, gus=None, ds=None):
        width = gu.shape[0] // 2
        for proj, w, s in (("gate_proj", gu[:width], None if gus is None else gus[:width // 128]),
                           ("up_proj", gu[width:], None if gus is None else gus[width // 128:]),
                           ("down_proj", d, ds)):
            sd[f"{prefix}{base}.{proj}.weight"] = w.clone()
            if s is not None:
                sd[f"{prefix}{base}.{proj}.weight_scale_inv"] = s.clone()
    fp8 = c.fp8
    for e in range(c.experts):
        ffn(f"experts.{e}", layer.gate_up[e], layer.down[e],
            layer.gate_up_scales[e] if fp8 else None, layer.down_scales[e] if fp8 else None)
    ffn("shared_experts", layer.shared_gate_up[0], layer.shared_down[0],
        layer.shared_gate_up_scales[0] if fp8 else None,
        layer.shared_down_scales[0] if fp8 else None)
    return sd


@pytest.mark.parametrize("fp8", [False, True])
def test_layer_loads_a_checkpoint(fp8):
    config, case = (cases.small_fp8(), "small_fp8_layer") if fp8 else (cases.small(), "small_layer")
    source = MoELayer(config, library=library(case))
    source.reset_parameters(std=0.06)
    sd = hf_state_dict(source, "model.layers.5.mlp.")
    x = torch.randn(200, 256, device=DEV).to(torch.bfloat16)
    want = source(x)
    loaded = MoELayer(config, library=source.library).load_weights(sd, layer=5)
    assert torch.equal(loaded(x).view(torch.int16), want.view(torch.int16))
    # From NumPy arrays on the host (e4m3 as uint8 codes, bf16 as bits).
    from moe_mlir.weights import as_numpy
    host = MoELayer(config, library=source.library).load_weights(as_numpy(sd), layer=5)
    assert torch.equal(host(x).view(torch.int16), want.view(torch.int16))
    # The checks of layer_weights name what is wrong.
    sd["model.layers.5.mlp.experts.3.down_proj.weight"] = \
        sd["model.layers.5.mlp.experts.3.down_proj.weight"].float()
    want_dtype = "float8_e4m3fn" if fp8 else "bfloat16"
    with pytest.raises(MoeError, match=f"'model.layers.5.mlp.experts.3.down_proj.weight' "
                                       f"must be torch.{want_dtype}"):
        loaded.load_weights(sd, layer=5)


def test_fused_gather_layer_is_bitwise_the_same():
    # The expert GEMMs read the permuted rows from the input: same bits, no
    # [T*6, 256] bf16 rows buffer in the workspace plan (which already gave
    # its memory to the expert outputs, so the workspace is no larger). Two
    # libraries with the same GEMM shapes in one process, each its own
    # kernel set-up.
    layer = MoELayer(cases.small(), library=library("small_layer"))
    layer.reset_parameters(std=0.06)
    fused = MoELayer(cases.small(), library=library("small_layer_fused"), fuse_gather=True)
    fused.load_state_dict(layer.state_dict())
    x = torch.randn(300, 256, device=DEV).to(torch.bfloat16)
    assert torch.equal(fused(x).view(torch.int16), layer(x).view(torch.int16))
    assert "permuteGatherBody" in layer.library.source
    assert "permuteGatherBody" not in fused.library.source
    plain = layer.library["small"].workspace_bytes(300)
    assert fused.library["small"].workspace_bytes(300) <= plain
    names = lambda lib: [b.name for b in lib.launchers["small"].spec.workspace.buffers]
    assert any(n.endswith("permute.rows") for n in names(layer.library))
    assert not any(n.endswith("permute.rows") for n in names(fused.library))


def test_layer_in_a_cuda_graph():
    # Launches on the current stream and never synchronises: a call captured
    # once replays on new inputs with the bits an eager call gives.
    layer = MoELayer(cases.small(), library=library("small_layer"))
    layer.reset_parameters(std=0.06)
    x = torch.randn(7, 256, device=DEV).to(torch.bfloat16)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        layer(x)  # warm-up: builds the library and sets the kernels up
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        y = layer(x)
    x.copy_(torch.randn(7, 256, device=DEV).to(torch.bfloat16))
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(y.view(torch.int16), layer(x).view(torch.int16))


def test_layer_on_two_streams_at_once():
    # Each call's workspace comes from the caching allocator on its stream,
    # so a call started on a second stream while the first is still running
    # (at several points into it) does not overwrite the first's scratch.
    # Enough tokens that the GPU, not the host's launches, sets the pace.
    layer = MoELayer(cases.small(), library=library("small_layer"))
    layer.reset_parameters(std=0.06)
    xs = [torch.randn(32768, 256, device=DEV).to(torch.bfloat16) for _ in range(2)]
    # Scratch, not state: once a call returns only its output stays
    # allocated (the workspace went back to the allocator, stream-ordered).
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    y = layer(xs[0])
    assert torch.cuda.memory_allocated() - before == y.numel() * y.element_size()
    assert layer.library["small"].workspace_bytes(32768) > 0
    del y
    want = [layer(x) for x in xs]

    def elapsed_ms(step):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)
    # The layer's duration in the GPU clock cycles torch.cuda._sleep spins.
    cycles = elapsed_ms(lambda: layer(xs[0])) * 1e6 / elapsed_ms(lambda: torch.cuda._sleep(10**6))
    first, second = torch.cuda.Stream(), torch.cuda.Stream()
    for s in (first, second):
        s.wait_stream(torch.cuda.current_stream())
    got = []
    for frac in (0.05, 0.15, 0.3, 0.5, 0.7, 0.9):
        with torch.cuda.stream(first):
            a = layer(xs[0])
        with torch.cuda.stream(second):
            torch.cuda._sleep(int(frac * cycles))
            b = layer(xs[1])
        got.append((a, b))
    torch.cuda.synchronize()
    for a, b in got:
        assert torch.equal(a.view(torch.int16), want[0].view(torch.int16))
        assert torch.equal(b.view(torch.int16), want[1].view(torch.int16))


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_layer_on_the_second_gpu():
    # A call runs on its tensors' device, whichever device is current, with
    # the bits the first GPU gives; tensors on two devices are refused.
    layer = MoELayer(cases.small(), library=library("small_layer"), device=DEV)
    layer.reset_parameters(std=0.06)
    x = torch.randn(300, 256, device=DEV).to(torch.bfloat16)
    want = layer(x)
    other = torch.device("cuda", 1)
    second = MoELayer(cases.small(), library=layer.library, device=other)
    second.load_state_dict(layer.state_dict())
    with torch.cuda.device(0):
        y = second(x.to(other))
    assert y.device == other
    assert torch.equal(y.cpu().view(torch.int16), want.cpu().view(torch.int16))
    with pytest.raises(MoeError, match="all tensors of a call must be on one device"):
        second.library["small"](x, second.router, second.bias, second.gate_up, second.down,
                                second.shared_gate_up, second.shared_down)


def test_argument_errors():
    layer = MoELayer(cases.small(), library=library("small_layer"))
    with pytest.raises(MoeError, match=r"x must be \[T, 256\]"):
        layer(torch.randn(4, 128, device=DEV).to(torch.bfloat16))
    launcher = layer.library["small"]
    good = [torch.randn(4, 256, device=DEV).to(torch.bfloat16), layer.router, layer.bias,
            layer.gate_up, layer.down, layer.shared_gate_up, layer.shared_down]
    with pytest.raises(MoeError, match="'input' must be torch.bfloat16, got torch.float32"):
        launcher(*([good[0].float()] + good[1:]))
    with pytest.raises(MoeError, match="'input' must be on a CUDA device"):
        launcher(*([good[0].cpu()] + good[1:]))
    with pytest.raises(MoeError, match="expected 7 inputs"):
        launcher(*good[:3])
    with pytest.raises(MoeError, match="'bias' must have shape \\[64\\]"):
        launcher(*(good[:2] + [torch.zeros(63, device=DEV)] + good[3:]))


def test_first_build_says_so(tmp_path, monkeypatch, capfd):
    # A cache miss prints one progress line on stderr; the cached build is
    # silent.
    source = open(os.path.join(os.environ["MOE_MLIR_PREBUILT"], "v3_route.cu")).read() \
        if os.environ.get("MOE_MLIR_PREBUILT") else library("v3_route").source
    monkeypatch.setenv("MOE_MLIR_CACHE", str(tmp_path))
    build(source)
    err = capfd.readouterr().err
    assert "moe_mlir: nvcc is compiling the emitted CUDA" in err and str(tmp_path) in err
    build(source)
    assert "nvcc" not in capfd.readouterr().err


def test_build_cache_is_reused():
    source = open(os.path.join(os.environ["MOE_MLIR_PREBUILT"], "v3_route.cu")).read() \
        if os.environ.get("MOE_MLIR_PREBUILT") else library("v3_route").source
    assert build(source) == build(source)


def test_build_for_the_manifest_target():
    # The library is built for its manifest's target: an arch-specific target
    # needs exactly its GPU, another one a GPU at least as new; the GPU check
    # comes before nvcc.
    major, minor = torch.cuda.get_device_capability()
    here = f"sm_{major}{minor}"
    lib = library("v3_route")
    assert lib.target == lib.manifest.target
    if lib.target.arch_specific:
        assert lib.target.capability == (major, minor)
    newer = f"sm_{major + 1}0"
    with pytest.raises(MoeError, match=f"compiled for {newer}a; this GPU is {here}"):
        build(lib.source, target=Target(newer + "a", (major + 1, 0), True))
    with pytest.raises(MoeError, match=f"compiled for {newer} and later; this GPU is {here}"):
        build(lib.source, target=Target(newer, (major + 1, 0), False))
    assert lowering_pipeline("sm_80", fuse_gather=True) == \
        "moe-lower-to-cuda{target=sm_80 fuse-gather=true}"
    assert default_target() == ("sm_90a" if (major, minor) == (9, 0) else "sm_80")


def test_workspace_size_matches_the_manifest_plan():
    # The launchers ask the library's size function; the manifest's plan
    # formula (moe_mlir.abi) must give the same bytes.
    assert library("small_layer")["small"].spec.workspace is not None
    for name in ("small_layer", "small_layer_fused", "v3_train", "v2_train", "v3_route"):
        for launcher in library(name).launchers.values():
            for T in (0, 1, 7, 300, 4096, 65537):
                assert launcher.workspace_bytes(T) == launcher.spec.workspace_bytes(T), \
                    (launcher.name, T)


def test_functional_forms(monkeypatch):
    from moe_mlir import pytorch
    c = cases.v3()
    lib = library("v3_route")
    monkeypatch.setitem(pytorch._libraries, (repr(c), "route", default_target(), ()), lib)
    z = torch.randn(64, c.experts, device=DEV)
    bias = torch.zeros(c.experts, device=DEV)
    ids, w = pytorch.route(c, z, bias)
    assert ids.shape == (64, 8) and w.dtype == torch.float32
    with pytest.raises(MoeError, match="takes a bias"):
        pytorch.route(c, z)
