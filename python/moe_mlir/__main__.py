"""The moe-mlir command line.

    python -m moe_mlir compile <model dir | config.json | layer.mlir> -o <dir> [options]

A model directory is read through its config.json; the layer's function
(and the files) are named after the model (the directory, or the .json
file's name when it is not config.json) unless --name says otherwise.

writes into <dir>: the IR after each stage of moe-lower-to-cuda
(00-input.mlir, 01-expanded.mlir, 02-planned.mlir when a topology is known,
03-configured.mlir: the kernels and every decision for the target,
04-bufferized.mlir, 05-workspace.mlir: the workspace plan, 06-emitc.mlir),
the CUDA source, header and launcher manifest (<name>.cu, <name>.h,
<name>.json) and summary.txt (the layer, the launchers, the workspace
plans, the dispatch plan). --target picks the GPU (sm_90a by default);
--fuse-gather lets the expert GEMMs gather the permuted rows instead of
copying them (no row copy; a little slower on H100). Errors (bad input, an
unreadable file, an output folder that cannot be made) print one line, or
the compiler's diagnostics with their locations, and exit with status 1;
usage errors exit with status 2.
"""

import argparse
import os
import re
import sys

from ._capi import MoeError
from .config import LayerConfig
from .ir import Module
from .validate import describe, identifier

# moe-lower-to-cuda, a stage at a time ({configure} takes the options).
STAGES = [
    ("01-expanded.mlir", "moe-expand-layer"),
    ("02-planned.mlir", "moe-plan-dispatch"),
    ("03-configured.mlir", "canonicalize,cse,moegpu-configure{configure},canonicalize"),
    ("04-bufferized.mlir", "one-shot-bufferize{bufferize-function-boundaries "
                           "function-boundary-type-conversion=identity-layout-map}"),
    ("05-workspace.mlir", "moegpu-plan-memory{print=true},canonicalize,cse"),
    ("06-emitc.mlir", "convert-moegpu-to-emitc"),
]

# The nvcc code option of each target (docs/abi.md).
GENCODE = {"sm_80": "arch=compute_80,code=sm_80", "sm_86": "arch=compute_86,code=sm_86",
           "sm_89": "arch=compute_89,code=sm_89", "sm_90": "arch=compute_90,code=sm_90",
           "sm_90a": "arch=compute_90a,code=sm_90a"}


def _shown(path):
    """`path` as text that can be printed and passed to the C API: bytes of
    the file name that are not UTF-8 (surrogates in str) as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _topology(text):
    """--topology NODES,GPUS[,NODE_LIMIT]: two or three unsigned integers
    (their ranges are LayerConfig's to check)."""
    if not re.fullmatch(r"[0-9]{1,19}(,[0-9]{1,19}){1,2}", text):
        raise MoeError(f"--topology must be NODES,GPUS[,NODE_LIMIT] (unsigned integers of up "
                       f"to 19 digits), got {describe(text)}")
    return tuple(int(v) for v in text.split(","))


def model_name(path):
    """The function name a model's config gives: its directory's name for a
    model directory or a config.json in one, else the .json file's stem;
    lower case, other characters as '_' (Mixtral-8x7B-v0.1 ->
    mixtral_8x7b_v0_1), 'm_' before a leading digit."""
    path = os.path.normpath(os.path.abspath(path))
    stem = os.path.basename(path)
    if stem == "config.json":
        stem = os.path.basename(os.path.dirname(path))
    elif stem.endswith(".json"):
        stem = stem[:-len(".json")]
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", stem.lower())).strip("_")
    if not name:
        return "moe_layer"
    return "m_" + name if name[0].isdigit() else name


def _config_path(path):
    """config.json of a model directory; a .json path as it is."""
    if os.path.isdir(path):
        config = os.path.join(path, "config.json")
        if not os.path.isfile(config):
            raise MoeError(f"{_shown(path)}: no config.json in this directory (a "
                           f"HuggingFace model directory holds one)")
        return config
    return path


def _source(args):
    """The input module's text, a description of where it came from and the
    name of its function."""
    path, shown = args.input, _shown(args.input)
    if os.path.isdir(path) or path.endswith(".json"):
        overrides = {}
        if args.topology is not None:
            overrides["topology"] = _topology(args.topology)
        name = args.name or model_name(path)
        cfg = LayerConfig.from_hf(_config_path(path), name=name, **overrides)
        text = cfg.layer_mlir(tokens=args.tokens)
        if args.training:
            text += cfg.layer_mlir(tokens=args.tokens, training=True, seq_len=args.seq_len,
                                   name=name + "_train")
        if args.routing:
            text += cfg.routing_mlir(tokens=args.tokens)
        return text, f"{shown}: {cfg!r}", name
    if args.training or args.routing or args.tokens is not None or args.topology is not None:
        raise MoeError("--training, --routing, --tokens and --topology apply to a "
                       "config.json input, not to a .mlir file")
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8"), shown, None
    except UnicodeDecodeError as err:
        raise MoeError(f"{shown}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset "
                       f"{err.start})") from None


def compile_command(args):
    if args.name is not None:
        identifier(args.name, "compile", "--name")
    text, origin, name = _source(args)
    base = args.name or name or \
        os.path.splitext(os.path.basename(args.input))[0].replace("-", "_")
    module = Module(text, name=_shown(args.input))
    module.verify()
    os.makedirs(args.output, exist_ok=True)
    written = []

    def write(name, content):
        with open(os.path.join(args.output, name), "w", encoding="utf-8") as f:
            f.write(content)
        written.append(name)

    write("00-input.mlir", str(module))
    configure = f"target={args.target}" + (" fuse-gather=true" if args.fuse_gather else "")
    dispatch, workspace = [], []
    for name, pipeline in STAGES:
        if name.startswith("02") and "moe.topology" not in str(module):
            continue
        module.run(pipeline.replace("{configure}", "{" + configure + "}"))
        remarks = [r.message for r in getattr(module, "remarks", [])]
        (workspace if name.startswith("05") else dispatch).extend(remarks)
        write(name, str(module))
    header = module.cuda_header()
    write(base + ".cu", module.cuda())
    write(base + ".h", header)
    write(base + ".json", module.cuda_manifest())
    launchers = re.findall(r"^(?:cudaError_t|size_t) .*;$", header, re.M)
    summary = [f"input: {origin}", f"target: {args.target}", "",
               "launchers (see the .h for their parameters, the .json for the ABI):"]
    if args.fuse_gather:
        summary[2:2] = ["fuse-gather: the expert GEMMs read the permuted rows from the "
                        "input (no row copy)"]
    summary += [f"  {line}" for line in launchers]
    if workspace:
        summary += ["", "workspace plans:"]
        summary += ["  " + line for r in workspace for line in r.splitlines()]
    if dispatch:
        summary += ["", "dispatch plan:"]
        summary += ["  " + r for r in dispatch]
    summary += ["", "build: nvcc -std=c++17 -O3 -I<moe-mlir>/include -gencode "
                f"{GENCODE[args.target]} -c {base}.cu",
                "files: " + ", ".join(written + ["summary.txt"])]
    write("summary.txt", "\n".join(summary) + "\n")
    print("\n".join(summary))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m moe_mlir",
        description="moe-mlir: compile DeepSeek-style MoE layers to CUDA.")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser(
        "compile", help="compile a config.json or a .mlir file to CUDA",
        description="Compile a HuggingFace model's MoE layer (a model directory or its "
                    "config.json) or a .mlir file of moe ops to CUDA: writes the IR after "
                    "each stage, the .cu, the .h, the .json launcher manifest and "
                    "summary.txt into the output folder.")
    c.add_argument("input", help="a model directory, its config.json, or a .mlir file")
    c.add_argument("-o", "--output", required=True, help="output folder (created)")
    c.add_argument("--name", help="function name (default: the model's, from the "
                                  "directory or file name)")
    c.add_argument("--tokens", type=int, help="a static token count (default: dynamic)")
    c.add_argument("--training", action="store_true",
                   help="also emit the layer with its auxiliary loss (config.json)")
    c.add_argument("--seq-len", type=int, default=4096,
                   help="sequence length of the auxiliary loss (default 4096)")
    c.add_argument("--routing", action="store_true",
                   help="also emit the routing alone, logits to ids and weights")
    c.add_argument("--topology", metavar="NODES,GPUS[,NODE_LIMIT]",
                   help="expert placement, for the dispatch plan (config.json)")
    c.add_argument("--target", default="sm_90a", choices=sorted(GENCODE),
                   help="GPU target (default sm_90a: wgmma and TMA on H100/H200; "
                        "sm_80 and the others take the portable mma.sync GEMMs)")
    c.add_argument("--fuse-gather", action="store_true",
                   help="let the expert GEMMs gather the permuted rows from the input "
                        "instead of copying them into a [T*K, H] rows buffer (same "
                        "workspace, bitwise the same output, about 3%% slower on H100)")
    args = parser.parse_args(argv)
    try:
        return compile_command(args)
    except (MoeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
