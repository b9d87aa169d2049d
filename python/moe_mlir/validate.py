"""Checks of the values handed to the front door (LayerConfig keywords,
config.json fields, command-line options) and the one way floats are written
into MLIR.

A check takes the value, where it came from ("LayerConfig", a file name) and
the field's name, and returns the value in its canonical type or raises
MoeError naming the field: bad input becomes a message, never a Python
exception from deeper down or IR text the parser rejects.
"""

import math
import numbers
import re
import reprlib
import struct

from ._capi import MoeError

# Expert ids, counts and offsets are i32 in the IR and in the kernels.
INT32_MAX = 2**31 - 1

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Short(reprlib.Repr):
    """repr() for messages: bounded in length and depth (input may be a list
    nested 100000 deep), and defined for ints too long for str()."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 3, 40, 40, 40

    def repr_int(self, x, level):
        if x.bit_length() > 128:
            return f"an integer of {x.bit_length()} bits"
        return super().repr_int(x, level)


describe = _Short().repr


def _fail(where, name, text, value):
    raise MoeError(f"{where}: '{name}' {text}, got {describe(value)}")


def integer(lo, hi=INT32_MAX):
    """An int (not a bool) in [lo, hi]."""
    def check(value, where, name):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            _fail(where, name, "must be an integer", value)
        value = int(value)
        if value < lo:
            _fail(where, name, f"must be at least {lo}", value)
        if value > hi:
            _fail(where, name, f"must be at most {hi}", value)
        return value
    return check


def f32(positive):
    """A finite number (not a bool) >= 0, or > 0 with `positive`, that the
    compiler's f32 attributes hold: not overflowing to inf, and not rounding
    to 0 unless it is 0 (an alpha of 1e-46 would ask for a loss the IR
    does not have)."""
    def check(value, where, name):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            _fail(where, name, "must be a number", value)
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            _fail(where, name, "must be finite", value)
        if x < 0 or (positive and x == 0):
            _fail(where, name, "must be positive" if positive else "must be >= 0", value)
        try:
            # "<f": the standard size checks for overflow, the native one does not.
            rounded = struct.unpack("<f", struct.pack("<f", x))[0]
        except OverflowError:
            _fail(where, name, "must fit an f32 (at most 3.4028235e+38)", value)
        if rounded == 0 and x != 0:
            _fail(where, name, "must not round to 0 as an f32 (at least 1.4e-45)", value)
        return x
    return check


def boolean(value, where, name):
    """A real bool (JSON true/false): "false", 0 and [] are not."""
    if not isinstance(value, bool):
        _fail(where, name, "must be true or false", value)
    return value


def choice(*options):
    """One of the strings `options`."""
    def check(value, where, name):
        if not isinstance(value, str):
            _fail(where, name, "must be a string", value)
        if value not in options:
            raise MoeError(f"{where}: unknown {name} {describe(value)} "
                           f"(known: {', '.join(options)})")
        return value
    return check


def identifier(value, where, name):
    """A C identifier: it names MLIR symbols, C functions and files."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        _fail(where, name, "must be an identifier ([A-Za-z_][A-Za-z0-9_]*)", value)
    return value


def optional(check):
    """None, or what `check` accepts."""
    def check_optional(value, where, name):
        return None if value is None else check(value, where, name)
    return check_optional


def mlir_float(value):
    """A finite float as an MLIR float literal that reads back as the same
    double: repr's shortest round-trip digits, with the '.0' that MLIR's
    lexer needs before an exponent (1e-05 -> 1.0e-05, 5e-324 -> 5.0e-324)."""
    x = float(value)
    if not math.isfinite(x):
        raise MoeError(f"cannot write {x!r} into MLIR as a float literal")
    mantissa, e, exponent = repr(x).partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent
