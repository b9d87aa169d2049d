"""`pip install .` gives a moe_mlir that works outside the source tree:
the package with its C API library and runtime headers and the moe-mlir
command. It builds the C API library from scratch (minutes), so it runs only
with MOE_TEST_PIP=1 (and a Python that has venv and pip, $MOE_TEST_PIP_PYTHON
or python3 on PATH; PyPI reachable for scikit-build-core):

    MOE_TEST_PIP=1 /usr/bin/python3 -m pytest -q python/tests/test_package.py
"""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

pytestmark = pytest.mark.skipif(not os.environ.get("MOE_TEST_PIP"),
                                reason="builds the package from scratch: set MOE_TEST_PIP=1")


def test_pip_install_works_outside_the_tree(tmp_path):
    python = os.environ.get("MOE_TEST_PIP_PYTHON") or shutil.which("python3") or sys.executable
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = str(venv / "bin" / "pip")
    subprocess.run([pip, "install", "-q", ROOT], check=True)
    # Away from the source tree, with nothing pointing back into it.
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MOE_CAPI_LIB", "MOE_MLIR_INCLUDE")}
    shutil.copy(os.path.join(ROOT, "examples", "hf", "mixtral-8x7b.json"), work / "config.json")
    run = subprocess.run([str(venv / "bin" / "moe-mlir"), "compile", str(work), "-o",
                          str(work / "out")], cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (work / "out" / "elsewhere.cu").exists()
    check = ("import moe_mlir, moe_mlir._capi as c, os; "
             "from moe_mlir.config import LayerConfig; from moe_mlir.cpu import CPUProgram; "
             "import numpy as np; "
             "assert os.path.dirname(c._find_library()).startswith(os.path.dirname(moe_mlir.__file__)); "
             "inc = os.path.join(os.path.dirname(moe_mlir.__file__), 'include', 'moe', 'Runtime', "
             "'cuda', 'ExpertsFp8Sm90.cuh'); assert os.path.exists(inc), inc; "
             "cfg = LayerConfig(experts=8, k=2, hidden=64, intermediate=32, name='l'); "
             "p = CPUProgram(cfg.routing_mlir()); "
             "ids, w = p.run('l_route', np.zeros((3, 8), np.float32)); print(ids.shape)")
    run = subprocess.run([str(venv / "bin" / "python"), "-c", check], cwd=work, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(3, 2)"
