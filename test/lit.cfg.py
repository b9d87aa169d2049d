# -*- Python -*-
# lit configuration of the moe-mlir regression tests.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MOE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".c", ".test", ".cu"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "lit.local.cfg"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.moe_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%moe_libs", os.path.join(config.moe_obj_root, "lib")))
config.substitutions.append(("%moe_src_root", config.moe_src_root))
config.substitutions.append(("%moe_obj_root", config.moe_obj_root))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Captured FileCheck variables do not leak across CHECK-LABELs.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

moe_tools_dir = os.path.join(config.moe_obj_root, "bin")
tools = [
    "moe-opt",
    "moe-translate",
    "moe-capi-test",
    "mlir-opt",
    "mlir-runner",
    "mlir-translate",
    ToolSubst("%PYTHON", config.python_executable, unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, [moe_tools_dir, config.llvm_tools_dir])

config.environment["PYTHONPATH"] = os.path.join(config.moe_src_root, "python")
config.environment["MOE_SRC_ROOT"] = config.moe_src_root
config.environment["MOE_CAPI_LIB"] = os.path.join(
    config.moe_obj_root, "lib", "libMoeCAPI" + config.llvm_shlib_ext)

# Optional external tools, following CIRCT's integration suite.
nvcc = "/usr/local/cuda/bin/nvcc"
if not os.path.exists(nvcc):
    nvcc = shutil.which("nvcc")
if nvcc:
    config.available_features.add("nvcc")
    config.substitutions.append(
        ("%nvcc", nvcc + " -std=c++17 -I" + os.path.join(config.moe_src_root, "include")))
try:
    if subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
        config.available_features.add("cuda-gpu")
except OSError:
    pass
