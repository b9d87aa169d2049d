#!/usr/bin/env python3
"""Regenerates the fuzzer's seed corpus and dictionary from the repository.

    test/Fuzz/update-seeds.py          rewrite test/Fuzz/corpus and moe.dict
    test/Fuzz/update-seeds.py --check  exit 1 if either is out of date

Seeds (test/Fuzz/corpus/*.mlir): every .mlir of examples/, bench/*/ and test/
(outside test/Fuzz), split into its `// -----` chunks and `//--- name`
split-file parts, without comment lines (RUN, CHECK, expected-error and
prose), ASCII only, deduplicated by content. The files are named after their
source and chunk, so a regenerated corpus differs only where the sources did.

Dictionary (test/Fuzz/moe.dict): the op names, attribute mnemonics, enum
cases and the literal keywords of the assembly formats of the moe and moegpu
dialects, read from the .td files and the hand-written attribute parsers,
then the type syntax, discardable attribute names, target names and numeric
edge values listed below.
"""
import hashlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FUZZ = ROOT / "test" / "Fuzz"
CORPUS = FUZZ / "corpus"
DICT = FUZZ / "moe.dict"


def seed_sources():
    files = sorted((ROOT / "examples").glob("*.mlir"))
    files += sorted((ROOT / "bench").glob("*/*.mlir"))
    files += sorted(p for p in (ROOT / "test").rglob("*.mlir")
                    if FUZZ not in p.parents)
    return files


TRAILING_ANNOTATION = re.compile(r"\s*//\s*(expected-|CHECK|RUN:).*$")


def chunks_of(text):
    """The `//--- name` parts of a split-file test, else the whole text; each
    split on `// -----`."""
    parts = re.split(r"(?m)^//--- .*\n", text)
    if len(parts) > 1:
        parts = parts[1:]  # what precedes the first part is the test's header
    for part in parts:
        yield from re.split(r"(?m)^// -----.*\n", part)


def clean(chunk):
    lines = []
    for line in chunk.splitlines():
        if line.lstrip().startswith("//"):
            continue
        line = TRAILING_ANNOTATION.sub("", line).rstrip()
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    text = "\n".join(lines) + "\n"
    return text if text.strip() and text.isascii() else None


def make_corpus():
    seeds, seen = {}, set()
    for path in seed_sources():
        stem = "-".join(path.relative_to(ROOT).with_suffix("").parts)
        for i, chunk in enumerate(chunks_of(path.read_text())):
            text = clean(chunk)
            if text is None:
                continue
            digest = hashlib.sha1(text.encode()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            seeds[f"{stem}-{i}.mlir"] = text
    return seeds


# Appended to what the .td files give: the syntax the moe formats are made of
# (builtin types, tensor encodings, the func/arith/tensor ops around moe ops),
# the discardable attributes the passes read, the targets, and integers at
# the edges of int32/int64 and of the products of static sizes.
EXTRA = {
    "types": [
        "tensor<", "memref<", "?x", "x?", "x", ">", "xbf16", "xf16", "xf32",
        "xf64", "xi1", "xi8", "xi32", "xi64", "xindex", "tensor<f32>",
        "tensor<?x?xf32>", "tensor<?x8xi32>", "tensor<?x8xf32>",
        "tensor<256xf32>", "tensor<256xi32>", "tensor<257xi32>",
        "tensor<?x7168xbf16>", "tensor<*xf32>", "!llvm.ptr", "index", "i1",
        "i32", "i64", "f32", "bf16", "f16", "f8E4M3FN", "dense<", "dense_resource<",
        "array<i64: ", "strided<", "affine_map<", "4611686018427387904x",
        "9223372036854775807x", "2147483648x", "1099511627776x", "0x", "1x",
    ],
    "syntax": [
        "func.func @f(", "%arg0: ", "-> ", "return ", "func.return",
        "arith.constant ", "tensor.empty(", "tensor.dim ", "tensor.cast ",
        "bufferization.to_tensor ", "bufferization.to_buffer ",
        "memref.alloc(", "memref.view ", "scf.for ", "module {",
        "builtin.module", "attributes {", "loc(", "\"moe.", "\"moegpu.",
        "<{", "}>", "operandSegmentSizes", "#moe.", "#moegpu.",
        "= ", ": ", ", ", "(", ")", "[", "]", "{", "}", "->", "^bb0",
        "true", "false", "unit", "0x7FC00000", "nan", "inf", "1.0e-4", "2.5",
        "\"num_tokens * 8 * 4096\"", "num_tokens", "ceildiv(", "floordiv(",
        "max(", "min(", "select(", "<=", ">=", "==",
    ],
    "discardable attributes": [
        "moe.topology", "moegpu.param", "moegpu.static_tokens",
        "moegpu.target", "moegpu.workspace", "moegpu.workspace_size_of",
    ],
    "targets and options": [
        "sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "\"sm_90a\"",
        "\"sm_80\"", "sm_100",
    ],
    "numbers": [
        "0", "1", "-1", "2", "7", "8", "16", "64", "128", "255", "256",
        "257", "4096", "7168", "65536", "2147483647", "2147483648",
        "-2147483648", "4294967296", "4611686018427387904",
        "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "18446744073709551615", "1.0e+38",
        "3.4028235e+38", "1.0e-45", "-0.0", "0x7F800000",
    ],
}


def td_keywords():
    """Section name -> keywords from the dialects' ODS and parsers."""
    ops, attrs, cases, literals, params = set(), set(), set(), set(), set()
    for td in sorted((ROOT / "include" / "moe" / "Dialect").glob("*/IR/*.td")):
        text = td.read_text()
        dialect = "moegpu" if "MoeGPU" in td.name else "moe"
        for m in re.finditer(r"def \w+ : (?:Moe|MoeGPU)_Op<\"(\w+)\"", text):
            ops.add(f"{dialect}.{m.group(1)}")
        for m in re.finditer(r"(?:Moe|MoeGPU)_Attr<\"\w+\", \"(\w+)\"", text):
            attrs.add(f"#{dialect}.{m.group(1)}<")
        for m in re.finditer(r"(?:Moe|MoeGPU)_EnumAttr<\w+, \"(\w+)\">", text):
            attrs.add(f"#{dialect}.{m.group(1)}<")
        for m in re.finditer(r"I(?:32|64)EnumAttrCase<\"(\w+)\"", text):
            cases.add(m.group(1))
        for m in re.finditer(
                r"assemblyFormat\s*=\s*(?:\[\{(.*?)\}\]|\"(.*?)\");", text,
                re.S):
            for lit in re.findall(r"`([^`]+)`", m.group(1) or m.group(2)):
                literals.add(lit)
        for m in re.finditer(r"let parameters = \(ins(.*?)\);", text, re.S):
            params.update(re.findall(r":\$(\w+)", m.group(1)))
    for cpp in sorted((ROOT / "lib" / "Dialect").glob("*/IR/*.cpp")):
        text = cpp.read_text()
        literals.update(re.findall(r"parse(?:Optional)?Keyword\(\"(\w+)\"",
                                   text))
        literals.update(re.findall(r"key == \"(\w+)\"", text))
    # `name = ` is how struct(params) and the keyed parsers spell them.
    keyed = {f"{p} = " for p in params | {w for w in literals if w.isidentifier()}}
    return {
        "op names": sorted(ops),
        "attribute mnemonics": sorted(attrs),
        "enum cases": sorted(cases),
        "keywords of the assembly formats": sorted(literals),
        "keyed parameters": sorted(keyed),
    }


def dict_entry(word):
    out = []
    for ch in word:
        if ch in "\\\"":
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02X}")
    return '"' + "".join(out) + '"'


def make_dict():
    lines = [
        "# libFuzzer dictionary of the moe and moegpu dialects (moe-fuzz -dict).",
        "# Generated by test/Fuzz/update-seeds.py from include/moe/Dialect/*/IR/"
        "*.td,",
        "# lib/Dialect/*/IR/*.cpp and the lists in that script; do not edit.",
    ]
    seen = set()
    sections = td_keywords()
    sections.update(EXTRA)
    for name, words in sections.items():
        lines.append("")
        lines.append(f"# {name}")
        for word in words:
            if word in seen:
                continue
            seen.add(word)
            lines.append(dict_entry(word))
    return "\n".join(lines) + "\n"


def main(argv):
    check = "--check" in argv
    seeds = make_corpus()
    dictionary = make_dict()
    existing = ({p.name: p.read_text() for p in CORPUS.glob("*.mlir")}
                if CORPUS.is_dir() else {})
    current = DICT.read_text() if DICT.exists() else None
    if check:
        stale = existing != seeds or current != dictionary
        if stale:
            print("test/Fuzz is out of date: run test/Fuzz/update-seeds.py")
        return 1 if stale else 0
    CORPUS.mkdir(parents=True, exist_ok=True)
    for name in set(existing) - set(seeds):
        (CORPUS / name).unlink()
    for name, text in seeds.items():
        (CORPUS / name).write_text(text)
    DICT.write_text(dictionary)
    size = sum(len(t) for t in seeds.values())
    print(f"{len(seeds)} seeds ({size} bytes), "
          f"{dictionary.count(chr(10) + chr(34))} dictionary entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
