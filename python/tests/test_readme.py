"""The README's Python snippets that need no GPU run as written (from the
repository root, as the README says), so they cannot drift from the API."""

import os
import re

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def snippets():
    with open(os.path.join(ROOT, "README.md")) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_the_cpu_snippet_runs(monkeypatch):
    runnable = [s for s in snippets() if "CPUProgram(" in s and "prog.run(" in s]
    assert runnable, "the README lost its CPU snippet"
    monkeypatch.chdir(ROOT)
    for snippet in runnable:
        scope = {}
        exec(compile(snippet, "README.md", "exec"), scope)
        ids, weights = scope["ids"], scope["weights"]
        assert ids.shape == weights.shape == (4, 8)
        assert ids.dtype == np.int32 and (ids >= 0).all() and (ids < 256).all()
        np.testing.assert_allclose(weights.sum(axis=1), 2.5, rtol=1e-6)
