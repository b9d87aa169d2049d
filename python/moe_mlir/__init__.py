"""moe-mlir from Python: ctypes over libMoeCAPI.so.

`moe_mlir.cpu.CPUProgram` compiles a moe module for the CPU and runs its
functions on NumPy arrays; failures raise `moe_mlir.MoeError` with the
compiler's diagnostics.
"""

from ._capi import MoeError

__all__ = ["MoeError"]
