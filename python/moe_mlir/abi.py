"""The launcher ABI of emitted CUDA modules (docs/abi.md), without PyTorch.

    from moe_mlir.abi import Manifest
    manifest = Manifest.load("layer.json")     # moe-translate --mlir-to-cuda-manifest
    spec = manifest["v3_layer"]
    spec.shape("input", 4096)                  # [4096, 7168]
    spec.workspace_bytes(4096)                 # the plan formula of docs/abi.md
    fn = spec.bind(ctypes.CDLL("liblayer.so"))    # argtypes and restype set
    size = spec.bind_workspace_size(lib)       # v3_layer_workspace_size, or None

`parse_expr` reads the expressions of shapes and workspace sizes. Every
problem (a malformed manifest or expression, a division by zero, a missing
function in the library) is a `moe_mlir.MoeError` that names where it is.
Standard library only: the benchmarks and moe_mlir.pytorch share it.
"""

import ctypes
import json
import operator
import re

from ._capi import MoeError

FORMAT = "moe-mlir-launchers"
VERSION = 1

# Element types of pointer parameters: the C type the launcher takes, its
# size, and the NumPy and torch dtype names that hold it. NumPy has no
# bfloat16 or float8: their arrays travel as their bits (uint16, uint8).
DTYPES = {
    "bf16": {"ctype": "__nv_bfloat16", "bytes": 2, "numpy": "uint16", "torch": "bfloat16"},
    "f16": {"ctype": "__half", "bytes": 2, "numpy": "float16", "torch": "float16"},
    "f32": {"ctype": "float", "bytes": 4, "numpy": "float32", "torch": "float32"},
    "f64": {"ctype": "double", "bytes": 8, "numpy": "float64", "torch": "float64"},
    # e4m3 values travel as their bits (uint8 in NumPy).
    "f8E4M3FN": {"ctype": "uint8_t", "bytes": 1, "numpy": "uint8",
                 "torch": "float8_e4m3fn"},
    "i1": {"ctype": "bool", "bytes": 1, "numpy": "bool", "torch": "bool"},
    "i32": {"ctype": "int32_t", "bytes": 4, "numpy": "int32", "torch": "int32"},
    "i64": {"ctype": "int64_t", "bytes": 8, "numpy": "int64", "torch": "int64"},
}
NUMPY_DTYPES = {name: d["numpy"] for name, d in DTYPES.items()}
TORCH_DTYPES = {name: d["torch"] for name, d in DTYPES.items()}

ROLES = ("input", "output", "workspace", "num_tokens", "stream")


# -- expressions --------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:([0-9]+)|([A-Za-z_][A-Za-z_0-9]*)|(<=|>=|==|[<>+\-*(),]))", re.ASCII)
_FUNCTIONS = {"ceildiv": (2, 2), "floordiv": (2, 2), "max": (1, None), "min": (1, None),
              "select": (3, 3)}
_COMPARE = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
            "==": operator.eq}
_MAX_DEPTH = 100  # nested parentheses and calls: a bound on recursion


class _EvalError(Exception):
    def __init__(self, pos, message):
        super().__init__(message)
        self.pos, self.message = pos, message


def _where(text, pos):
    return f"expression '{text}'" + ("" if pos is None else f" at column {pos + 1}")


class Expr:
    """An integer expression in `num_tokens` (docs/abi.md); `parse_expr`
    makes them. Equal expressions compare equal whatever their spacing;
    `str()` prints one canonical form that parses back to an equal one."""

    __slots__ = ("pos", "source")

    def eval(self, num_tokens):
        """The value for a token count >= 0."""
        try:
            T = operator.index(num_tokens)
        except TypeError:
            T = None
        if T is None or isinstance(num_tokens, bool):
            raise MoeError(f"{_where(self.text, None)}: num_tokens must be an integer, "
                           f"got {num_tokens!r}")
        if T < 0:
            raise MoeError(f"{_where(self.text, None)}: num_tokens must be >= 0, got {T}")
        try:
            return self._eval(T)
        except _EvalError as err:
            pos = err.pos if getattr(self, "source", None) else None  # columns of the text
            raise MoeError(f"{_where(self.text, pos)}: {err.message} "
                           f"(num_tokens = {T})") from None

    @property
    def text(self):
        """The text this expression was parsed from (else its str())."""
        return getattr(self, "source", None) or str(self)

    @property
    def is_num_tokens(self):
        """Whether this is `num_tokens` itself."""
        return isinstance(self, NumTokens)

    @property
    def uses_num_tokens(self):
        return any(c.uses_num_tokens for c in self._children())

    def _children(self):
        return ()

    def _key(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    def __repr__(self):
        return f"parse_expr({str(self)!r})"

    def _wrapped(self, tight):
        """str(self), parenthesised when it binds less tightly than `tight`
        (0 compare, 1 sum, 2 product, 3 atom)."""
        return f"({self})" if self._level < tight else str(self)


class Int(Expr):
    __slots__ = ("value",)
    _level = 3

    def __init__(self, value, pos=None):
        self.value, self.pos = value, pos

    def _key(self):
        return self.value

    def _eval(self, T):
        return self.value

    def __str__(self):
        return str(self.value)


class NumTokens(Expr):
    __slots__ = ()
    _level = 3

    def __init__(self, pos=None):
        self.pos = pos

    @property
    def uses_num_tokens(self):
        return True

    def _key(self):
        return ()

    def _eval(self, T):
        return T

    def __str__(self):
        return "num_tokens"


class Sum(Expr):
    """operands[0] ops[0] operands[1] ...; ops are '+' and '-'."""

    __slots__ = ("operands", "ops")
    _level = 1

    def __init__(self, operands, ops, pos=None):
        self.operands, self.ops, self.pos = tuple(operands), tuple(ops), pos

    def _children(self):
        return self.operands

    def _key(self):
        return self.operands, self.ops

    def _eval(self, T):
        value = self.operands[0]._eval(T)
        for op, e in zip(self.ops, self.operands[1:]):
            value = value + e._eval(T) if op == "+" else value - e._eval(T)
        return value

    def __str__(self):
        # A nested sum keeps its parentheses: the tree round-trips exactly.
        parts = [self.operands[0]._wrapped(2)]
        for op, e in zip(self.ops, self.operands[1:]):
            parts += [op, e._wrapped(2)]
        return " ".join(parts)


class Product(Expr):
    __slots__ = ("factors",)
    _level = 2

    def __init__(self, factors, pos=None):
        self.factors, self.pos = tuple(factors), pos

    def _children(self):
        return self.factors

    def _key(self):
        return self.factors

    def _eval(self, T):
        value = 1
        for e in self.factors:
            value *= e._eval(T)
        return value

    def __str__(self):
        return " * ".join(e._wrapped(3) for e in self.factors)


class Compare(Expr):
    __slots__ = ("op", "lhs", "rhs")
    _level = 0

    def __init__(self, op, lhs, rhs, pos=None):
        self.op, self.lhs, self.rhs, self.pos = op, lhs, rhs, pos

    def _children(self):
        return self.lhs, self.rhs

    def _key(self):
        return self.op, self.lhs, self.rhs

    def _eval(self, T):
        return int(_COMPARE[self.op](self.lhs._eval(T), self.rhs._eval(T)))

    def __str__(self):
        return f"{self.lhs._wrapped(1)} {self.op} {self.rhs._wrapped(1)}"


class Call(Expr):
    """ceildiv, floordiv, max, min or select."""

    __slots__ = ("name", "args")
    _level = 3

    def __init__(self, name, args, pos=None):
        self.name, self.args, self.pos = name, tuple(args), pos

    def _children(self):
        return self.args

    def _key(self):
        return self.name, self.args

    def _eval(self, T):
        if self.name == "select":
            # Only the chosen branch, as C's `c ? a : b`: the other one may
            # divide by zero for this T.
            c, a, b = self.args
            return a._eval(T) if c._eval(T) != 0 else b._eval(T)
        values = [e._eval(T) for e in self.args]
        if self.name == "max":
            return max(values)
        if self.name == "min":
            return min(values)
        a, b = values
        if b == 0:
            raise _EvalError(self.pos, f"{self.name} by zero")
        return a // b if self.name == "floordiv" else -(-a // b)

    def __str__(self):
        return f"{self.name}({', '.join(str(e) for e in self.args)})"


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = []  # (kind, value, pos); kind: int, name, op, end
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:
                rest = text[pos:]
                skipped = len(rest) - len(rest.lstrip())
                if skipped == len(rest):
                    break
                self.fail(pos + skipped, f"unexpected character '{rest[skipped]}'")
            start = m.start(m.lastindex)
            kind = ("int", "name", "op")[m.lastindex - 1]
            value = m.group(m.lastindex)
            self.tokens.append((kind, int(value) if kind == "int" else value, start))
            pos = m.end()
        self.tokens.append(("end", None, len(text)))
        self.i = 0
        self.depth = 0

    def fail(self, pos, message):
        raise MoeError(f"{_where(self.text, pos)}: {message}")

    @staticmethod
    def describe(token):
        kind, value, _ = token
        return "the end" if kind == "end" else f"'{value}'"

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, op, after=None):
        token = self.take()
        if token[0] != "op" or token[1] != op:
            what = f"expected '{op}'" + (f" after {after}" if after else "")
            self.fail(token[2], f"{what}, got {self.describe(token)}")
        return token

    def parse(self):
        expr = self.compare()
        token = self.peek()
        if token[0] != "end":
            hint = (" (comparisons do not chain: add parentheses)"
                    if token[0] == "op" and token[1] in _COMPARE else "")
            self.fail(token[2], f"unexpected {self.describe(token)}{hint}")
        return expr

    def compare(self):
        lhs = self.sum()
        token = self.peek()
        if token[0] == "op" and token[1] in _COMPARE:
            self.take()
            return Compare(token[1], lhs, self.sum(), pos=token[2])
        return lhs

    def sum(self):
        first = self.product()
        operands, ops = [first], []
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            ops.append(self.take()[1])
            operands.append(self.product())
        return first if not ops else Sum(operands, ops, pos=first.pos)

    def product(self):
        first = self.atom()
        factors = [first]
        while self.peek()[0] == "op" and self.peek()[1] == "*":
            self.take()
            factors.append(self.atom())
        return first if len(factors) == 1 else Product(factors, pos=first.pos)

    def atom(self):
        kind, value, pos = token = self.take()
        if kind == "int":
            return Int(value, pos=pos)
        if kind == "name":
            if value == "num_tokens":
                return NumTokens(pos=pos)
            if value not in _FUNCTIONS:
                self.fail(pos, f"unknown identifier '{value}' (expected num_tokens or one of "
                               f"{', '.join(_FUNCTIONS)})")
            self.expect("(", after=f"'{value}'")
            self.enter(pos)
            args = []
            if not (self.peek()[0] == "op" and self.peek()[1] == ")"):
                args.append(self.compare())
                while self.peek()[0] == "op" and self.peek()[1] == ",":
                    self.take()
                    args.append(self.compare())
            self.expect(")", after=f"the arguments of '{value}'")
            self.depth -= 1
            low, high = _FUNCTIONS[value]
            if len(args) < low or (high is not None and len(args) > high):
                want = (f"{low}" if low == high else f"at least {low}") + \
                    (" argument" if low == 1 else " arguments")
                self.fail(pos, f"{value} takes {want}, got {len(args)}")
            return Call(value, args, pos=pos)
        if kind == "op" and value == "(":
            self.enter(pos)
            inner = self.compare()
            self.expect(")", after=f"the '(' at column {pos + 1}")
            self.depth -= 1
            return inner
        self.fail(pos, "expected an integer, 'num_tokens', '(' or a function, got "
                       + self.describe(token))

    def enter(self, pos):
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail(pos, f"nested more than {_MAX_DEPTH} deep")


def parse_expr(text):
    """The `Expr` of `text` in the grammar of docs/abi.md; a syntax error,
    an unknown identifier or function or a wrong argument count is a
    MoeError naming the expression and the column."""
    if not isinstance(text, str):
        raise MoeError(f"an expression must be a string, got {type(text).__name__}")
    expr = _Parser(text).parse()
    expr.source = text
    return expr


# -- the manifest -------------------------------------------------------------

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(
                type(value), type(value).__name__)


class _Reader:
    """Typed access to one JSON object, with errors naming where it is."""

    def __init__(self, obj, where):
        if not isinstance(obj, dict):
            raise MoeError(f"{where}: expected an object, got {_type_name(obj)}")
        self.obj, self.where = obj, where

    def fail(self, message):
        raise MoeError(f"{self.where}: {message}")

    def get(self, key, kind, required=True, default=None):
        if key not in self.obj:
            if required:
                self.fail(f"missing '{key}'")
            return default
        value = self.obj[key]
        ok = {"str": lambda v: isinstance(v, str), "int": _is_int,
              "bool": lambda v: isinstance(v, bool), "list": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict)}[kind](value)
        if not ok:
            want = {"str": "a string", "int": "an integer", "bool": "a boolean",
                    "list": "a list", "object": "an object"}[kind]
            self.fail(f"'{key}' must be {want}, got {_type_name(value)}")
        return value

    def name(self, key="name"):
        value = self.get(key, "str")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", value):
            self.fail(f"'{key}' must be a C identifier, got {value!r}")
        return value

    def power_of_two(self, key):
        value = self.get(key, "int")
        if value <= 0 or value & (value - 1):
            self.fail(f"'{key}' must be a positive power of two, got {value}")
        return value


def _size(value, where):
    """A shape entry or a byte count: an integer >= 0 or an expression."""
    if _is_int(value):
        if value < 0:
            raise MoeError(f"{where}: must be >= 0, got {value}")
        return value
    if isinstance(value, str):
        try:
            return parse_expr(value)
        except MoeError as err:
            raise MoeError(f"{where}: {err}") from None
    raise MoeError(f"{where}: must be an integer or an expression string, "
                   f"got {_type_name(value)}")


def _evaluate(value, T):
    return value if _is_int(value) else value.eval(T)


class Target:
    """What the module was compiled for: `name` (e.g. "sm_90a"),
    `capability` (major, minor) and `arch_specific` (runs on exactly that
    capability, not later ones)."""

    def __init__(self, name, capability, arch_specific):
        self.name, self.capability, self.arch_specific = name, tuple(capability), arch_specific

    def __repr__(self):
        return (f"Target({self.name!r}, capability={self.capability}, "
                f"arch_specific={self.arch_specific})")

    def __str__(self):
        return self.name

    def __eq__(self, other):
        return isinstance(other, Target) and (self.name, self.capability, self.arch_specific) \
            == (other.name, other.capability, other.arch_specific)

    def __hash__(self):
        return hash((self.name, self.capability, self.arch_specific))

    def gencode(self, gpu):
        """nvcc's `-gencode` value for running on a GPU of capability `gpu`
        (major, minor): the target itself when it is arch-specific (the GPU
        must have exactly its capability), else the GPU's own architecture
        (which must not be older), with the `a` features from 9.0 on. A GPU
        the code cannot run on is a MoeError."""
        major, minor = gpu
        here = f"sm_{major}{minor}"
        if self.arch_specific:
            if tuple(gpu) != self.capability:
                raise MoeError(f"compiled for {self.name}; this GPU is {here}")
            digits = "".join(str(c) for c in self.capability)
            return f"arch=compute_{digits}a,code=sm_{digits}a"
        if tuple(gpu) < self.capability:
            raise MoeError(f"compiled for {self.name} and later; this GPU is {here}")
        return native_gencode(gpu)


def native_gencode(gpu):
    """nvcc's `-gencode` value for the architecture of a GPU of capability
    `gpu` (major, minor), with the `a` features from 9.0 on."""
    major, minor = gpu
    suffix = "a" if major >= 9 else ""
    return f"arch=compute_{major}{minor}{suffix},code=sm_{major}{minor}{suffix}"


class Param:
    """One launcher parameter. `shape` (a list of int or Expr), `dtype` and
    `align` are None where the role has none: `shape` and `dtype` belong to
    inputs and outputs, `align` to them and the workspace."""

    def __init__(self, name, role, ctype, dtype=None, shape=None, align=None):
        self.name, self.role, self.ctype = name, role, ctype
        self.dtype, self.shape, self.align = dtype, shape, align

    @property
    def is_tensor(self):
        """An input or output pointer."""
        return self.role in ("input", "output")

    def __repr__(self):
        shape = None if self.shape is None else [str(d) for d in self.shape]
        return f"Param({self.name!r}, {self.role!r}, {self.dtype!r}, {shape})"


class Buffer:
    """One intermediate of a workspace: `bytes` (int or Expr) and `after`,
    the indices of the earlier buffers whose lifetimes overlap it."""

    def __init__(self, name, bytes, after):
        self.name, self.bytes, self.after = name, bytes, tuple(after)

    def __repr__(self):
        return f"Buffer({self.name!r}, {str(self.bytes)!r}, after={list(self.after)})"


class Workspace:
    """A launcher's scratch memory: `function` (its size function in the
    library), `alignment` and `buffers` (the plan)."""

    def __init__(self, function, alignment, buffers, where="workspace"):
        self.function, self.alignment, self.buffers = function, alignment, list(buffers)
        self._where = where

    def offsets(self, num_tokens):
        """The byte offset of each buffer for `num_tokens` tokens."""
        return self._plan(num_tokens)[1]

    def bytes(self, num_tokens):
        """The workspace's size in bytes for `num_tokens` tokens (what its
        size function returns)."""
        sizes, offsets = self._plan(num_tokens)
        return max([0] + [o + n for o, n in zip(offsets, sizes)])

    def _plan(self, T):
        # offset[i] = max(0, max over j in after[i] of offset[j] + bytes[j])
        sizes = [self._bytes(i, T) for i in range(len(self.buffers))]
        offsets = []
        for b in self.buffers:
            offsets.append(max([0] + [offsets[j] + sizes[j] for j in b.after]))
        return sizes, offsets

    def _bytes(self, i, T):
        b = self.buffers[i]
        try:
            n = _evaluate(b.bytes, T)
        except MoeError as err:
            raise MoeError(f"{self._where}, buffer {i} ('{b.name}'): {err}") from None
        if n < 0 or n % self.alignment:
            raise MoeError(f"{self._where}, buffer {i} ('{b.name}'): {n} bytes for "
                           f"num_tokens = {T}; must be >= 0 and a multiple of {self.alignment}")
        return n

    def __repr__(self):
        return f"Workspace({self.function!r}, alignment={self.alignment}, {self.buffers})"


class LauncherSpec:
    """One launcher of the manifest: its parameters in call order (`params`),
    the `inputs` and `outputs` among them, `static_tokens` (None when the
    token count is free), `max_tokens` (the most tokens a free launcher
    takes; None when the manifest states no bound) and `workspace` (None
    when it takes none)."""

    def __init__(self, name, params, static_tokens=None, workspace=None,
                 max_tokens=None):
        self.name, self.params = name, list(params)
        self.static_tokens, self.workspace = static_tokens, workspace
        self.max_tokens = max_tokens
        self.inputs = [p for p in self.params if p.role == "input"]
        self.outputs = [p for p in self.params if p.role == "output"]

    def __repr__(self):
        return f"LauncherSpec({self.name!r}, {self.params})"

    def param(self, name):
        for p in self.params:
            if p.name == name:
                return p
        raise MoeError(f"launcher '{self.name}' has no parameter '{name}' "
                       f"(have: {', '.join(p.name for p in self.params)})")

    @property
    def tokens_input(self):
        """The first input whose first dimension is `num_tokens` itself
        (the one a caller reads the token count from), or None."""
        for p in self.inputs:
            if p.shape and isinstance(p.shape[0], Expr) and p.shape[0].is_num_tokens:
                return p
        return None

    def shape(self, param, num_tokens):
        """The dimensions of an input or output (a Param or its name) for
        `num_tokens` tokens."""
        p = self.param(param) if isinstance(param, str) else param
        where = f"launcher '{self.name}', param '{p.name}'"
        if p.shape is None:
            raise MoeError(f"{where}: a {p.role} parameter has no shape")
        dims = []
        for d in p.shape:
            try:
                n = _evaluate(d, num_tokens)
            except MoeError as err:
                raise MoeError(f"{where}: {err}") from None
            if n < 0:
                raise MoeError(f"{where}: dimension '{d}' is {n} for num_tokens = {num_tokens}")
            dims.append(n)
        return dims

    def check_tokens(self, num_tokens):
        """Raises MoeError unless the launcher takes `num_tokens` tokens (the
        launcher itself would return cudaErrorInvalidValue)."""
        if not _is_int(num_tokens):
            raise MoeError(f"launcher '{self.name}': num_tokens must be an integer, "
                           f"got {num_tokens!r}")
        if num_tokens < 0:
            raise MoeError(f"launcher '{self.name}': num_tokens must be >= 0, "
                           f"got {num_tokens}")
        if self.static_tokens is not None and num_tokens != self.static_tokens:
            raise MoeError(f"launcher '{self.name}' is compiled for {self.static_tokens} "
                           f"tokens, got {num_tokens}")
        if self.max_tokens is not None and num_tokens > self.max_tokens:
            raise MoeError(f"launcher '{self.name}' takes at most {self.max_tokens} tokens "
                           f"(its tensors would pass 2^48 bytes), got {num_tokens}")

    def workspace_bytes(self, num_tokens):
        """Bytes of workspace for `num_tokens` tokens by the manifest's plan
        (0 without a workspace)."""
        if self.workspace is None:
            return 0
        if _is_int(num_tokens) and self.max_tokens is not None \
                and num_tokens > self.max_tokens:
            self.check_tokens(num_tokens)
        return self.workspace.bytes(num_tokens)

    def argtypes(self):
        """ctypes types in call order."""
        return [ctypes.c_int64 if p.role == "num_tokens" else ctypes.c_void_p
                for p in self.params]

    def bind(self, cdll):
        """The launcher in `cdll` (a ctypes.CDLL) with argtypes and restype
        (cudaError_t as c_int) set; its own function object, so binding
        twice or the same name bound elsewhere do not interfere."""
        fn = self._symbol(cdll, self.name)
        fn.argtypes = self.argtypes()
        fn.restype = ctypes.c_int
        return fn

    def bind_workspace_size(self, cdll):
        """The workspace's size function (size_t f(int64_t num_tokens)) in
        `cdll`, or None when the launcher takes no workspace."""
        if self.workspace is None:
            return None
        fn = self._symbol(cdll, self.workspace.function)
        fn.argtypes = [ctypes.c_int64]
        fn.restype = ctypes.c_size_t
        return fn

    def _symbol(self, cdll, name):
        try:
            return cdll[name]
        except AttributeError:
            raise MoeError(f"launcher '{self.name}': the library "
                           f"{getattr(cdll, '_name', cdll)} has no function '{name}'") from None


def _expect_ctype(r, p, want, text):
    # Spacing aside ("const float *"), the C type must be the one the role
    # and dtype call for: the ABI is what the header declares.
    spaced = lambda c: " ".join(c.replace("*", " * ").split())  # noqa: E731
    if spaced(p["ctype"]) != spaced(want):
        r.fail(f"ctype '{p['ctype']}' does not match {text} (expected '{want}')")


def _param(obj, where):
    r = _Reader(obj, where)
    name = r.name()
    r.where = where = f"{where} ('{name}')"
    role = r.get("role", "str")
    if role not in ROLES:
        r.fail(f"unknown role '{role}' (expected one of {', '.join(ROLES)})")
    ctype = r.get("ctype", "str")
    p = {"name": name, "role": role, "ctype": ctype}
    if role in ("input", "output"):
        dtype = r.get("dtype", "str")
        if dtype not in DTYPES:
            r.fail(f"unknown dtype '{dtype}' (expected one of {', '.join(DTYPES)})")
        shape = r.get("shape", "list")
        p.update(dtype=dtype, align=r.power_of_two("align"),
                 shape=[_size(d, f"{where}, shape[{i}]") for i, d in enumerate(shape)])
        base = DTYPES[dtype]["ctype"]
        _expect_ctype(r, p, ("const " if role == "input" else "") + base + "*",
                      f"an {role} of dtype {dtype}")
    elif role == "workspace":
        p["align"] = r.power_of_two("align")
        _expect_ctype(r, p, "void*", "the workspace")
    else:
        _expect_ctype(r, p, "int64_t" if role == "num_tokens" else "cudaStream_t",
                      f"the {role} parameter")
    return Param(**p)


# Roles in the order the launcher takes them (docs/abi.md).
_ORDER = {"input": 0, "output": 1, "workspace": 2, "num_tokens": 3, "stream": 4}


def _launcher(obj, where):
    r = _Reader(obj, where)
    name = r.name()
    r.where = where = f"launcher '{name}'"
    if "static_tokens" not in obj:
        r.fail("missing 'static_tokens' (null when the token count is free)")
    static = obj["static_tokens"]
    if static is not None and (not _is_int(static) or static < 0):
        r.fail(f"'static_tokens' must be null or an integer >= 0, got {static!r}")
    most = obj.get("max_tokens")  # absent or null: no bound stated
    if most is not None and (not _is_int(most) or most < 0):
        r.fail(f"'max_tokens' must be null or an integer >= 0, got {most!r}")
    params = [_param(p, f"{where}, params[{i}]")
              for i, p in enumerate(r.get("params", "list"))]
    seen = set()
    for p in params:
        if p.name in seen:
            r.fail(f"two parameters named '{p.name}'")
        seen.add(p.name)
    roles = [p.role for p in params]
    for role in ("workspace", "num_tokens", "stream"):
        if roles.count(role) > 1:
            r.fail(f"more than one {role} parameter")
    for role in ("num_tokens", "stream"):
        if role not in roles:
            r.fail(f"no {role} parameter")
    order = [_ORDER[role] for role in roles]
    if order != sorted(order) or roles[-2:] != ["num_tokens", "stream"]:
        r.fail(f"parameters out of order ({', '.join(roles)}): expected inputs, outputs, "
               "[workspace], num_tokens, stream")
    workspace = None
    if obj.get("workspace") is not None:  # absent (or null) without a workspace
        workspace = _workspace(r.get("workspace", "object"), f"{where}, workspace")
    if workspace is None and "workspace" in roles:
        r.fail("has a workspace parameter but no 'workspace' plan")
    if workspace is not None and "workspace" not in roles:
        r.fail("has a 'workspace' plan but no workspace parameter")
    return LauncherSpec(name, params, static, workspace, most)


def _workspace(obj, where):
    r = _Reader(obj, where)
    function = r.name("function")
    alignment = r.power_of_two("alignment")
    buffers = []
    for i, b in enumerate(r.get("buffers", "list")):
        br = _Reader(b, f"{where}, buffers[{i}]")
        name = br.get("name", "str")
        if "bytes" not in b:
            br.fail("missing 'bytes'")
        size = _size(b["bytes"], f"{where}, buffers[{i}] ('{name}'), bytes")
        if _is_int(size) and size % alignment:
            br.fail(f"{size} bytes is not a multiple of the alignment {alignment}")
        after = br.get("after", "list")
        for j in after:
            if not _is_int(j) or not 0 <= j < i:
                br.fail(f"'after' holds {j!r}: entries must be indices of earlier buffers "
                        f"(0 to {i - 1})")
        if len(set(after)) != len(after):
            br.fail(f"'after' repeats an index: {after}")
        buffers.append(Buffer(name, size, after))
    return Workspace(function, alignment, buffers, where)


def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise MoeError(f"key '{key}' appears twice in one object")
        obj[key] = value
    return obj


class Manifest:
    """The launchers of one emitted module (docs/abi.md): `target` and
    `launchers` (name to LauncherSpec, in the module's order);
    `manifest[name]` is one of them."""

    def __init__(self, target, launchers, source="manifest"):
        self.target = target
        self.launchers = {spec.name: spec for spec in launchers}
        self.source = source

    @classmethod
    def loads(cls, text, source="manifest"):
        """From the JSON text; `source` names it in errors (a path, say)."""
        if isinstance(text, (bytes, bytearray)):
            text = text.decode()
        if not isinstance(text, str):
            raise MoeError(f"{source}: expected the JSON text, got {type(text).__name__}")
        try:
            obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except ValueError as err:
            hint = ""
            if text.lstrip().startswith(("/", "#")):
                hint = (" (this looks like C: the manifest is the .json of "
                        "moe-translate --mlir-to-cuda-manifest)")
            raise MoeError(f"{source}: not valid JSON: {err}{hint}") from None
        except MoeError as err:
            raise MoeError(f"{source}: {err}") from None
        r = _Reader(obj, source)
        fmt = r.get("format", "str")
        if fmt != FORMAT:
            r.fail(f"'format' is '{fmt}', expected '{FORMAT}'")
        version = r.get("version", "int")
        if version != VERSION:
            r.fail(f"manifest version {version}; this moe_mlir reads version {VERSION}")
        target = _target(r.get("target", "object"), f"{source}: target")
        launchers, names = [], set()
        for i, l in enumerate(r.get("launchers", "list")):
            spec = _launcher(l, f"{source}: launchers[{i}]")
            if spec.name in names:
                r.fail(f"two launchers named '{spec.name}'")
            for other in ([spec.workspace.function] if spec.workspace else []):
                if other in names:
                    r.fail(f"launcher '{spec.name}': its size function '{other}' "
                           "is also a launcher's name")
            names.add(spec.name)
            launchers.append(spec)
        return cls(target, launchers, source)

    @classmethod
    def load(cls, path):
        """From a .json file."""
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError as err:
            raise MoeError(f"cannot read the manifest {path}: {err.strerror}") from None
        return cls.loads(text, source=str(path))

    def __getitem__(self, name):
        if name not in self.launchers:
            raise MoeError(f"no launcher '{name}' in {self.source} "
                           f"(have: {', '.join(self.launchers) or 'none'})")
        return self.launchers[name]

    def __contains__(self, name):
        return name in self.launchers

    def __iter__(self):
        return iter(self.launchers.values())

    def __len__(self):
        return len(self.launchers)

    def __repr__(self):
        return f"Manifest({self.target!r}, [{', '.join(self.launchers)}])"


def _target(obj, where):
    r = _Reader(obj, where)
    name = r.get("name", "str")
    capability = r.get("capability", "list")
    if len(capability) != 2 or not all(_is_int(c) and c >= 0 for c in capability):
        r.fail(f"'capability' must be [major, minor], got {capability!r}")
    arch_specific = r.get("arch_specific", "bool")
    m = re.fullmatch(r"sm_(\d+?)(\d)([a-z]?)", name)
    if m is None:
        r.fail(f"'name' must be an sm_<major><minor>[a] target, got {name!r}")
    if [int(m.group(1)), int(m.group(2))] != capability:
        r.fail(f"'{name}' does not have capability {capability}")
    if (m.group(3) == "a") != arch_specific:
        r.fail(f"'{name}' is {'' if m.group(3) == 'a' else 'not '}arch-specific, "
               f"'arch_specific' says {str(arch_specific).lower()}")
    return Target(name, capability, arch_specific)
