"""Plugins: a third-party package registers a metric and a backend through entry points.

The package here is real as far as ``importlib.metadata`` can tell: a module and a
``.dist-info`` folder with ``entry_points.txt`` on ``PYTHONPATH``, exactly what ``pip install``
leaves in site-packages. The CLI runs in a subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGIN = '''
import numpy as np

from tuneval.metrics import MeanMetric, register_metric
from tuneval.models import Completion, ModelBackend, register_backend


@register_metric
class LengthRatio(MeanMetric):
    """Prediction length over reference length, capped at 1."""

    name = "length_ratio"
    description = "len(prediction) / len(reference), at most 1"

    def __init__(self, *, cap: float = 1.0) -> None:
        self.cap = cap

    @property
    def score_names(self):
        return ["length_ratio"]

    def example_values(self, predictions, references):
        pairs = zip(predictions, references)
        values = [min(self.cap, len(p) / max(1, len(r[0]))) for p, r in pairs]
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    def signature_fields(self):
        return {"cap": f"{self.cap:g}"}


@register_backend
class Shout(ModelBackend):
    """Answers with the last message in capitals and an exclamation mark."""

    prefix = "shout"

    async def complete(self, request):
        return Completion(text=request.messages[-1].content.upper() + "!")
'''

ENTRY_POINTS = """[tuneval.metrics]
length_ratio = tuneval_demo_plugin

[tuneval.backends]
shout = tuneval_demo_plugin
"""


def _install(root: Path, source: str = PLUGIN) -> dict[str, str]:
    """Lay the plugin out as pip would; return the environment that sees it."""
    (root / "tuneval_demo_plugin.py").write_text(source, encoding="utf-8")
    info = root / "tuneval_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tuneval-demo-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "400"}


def _tuneval(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuneval", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_an_installed_plugin_adds_a_metric_and_a_backend(tmp_path):
    env = _install(tmp_path)
    listed = _tuneval(env, tmp_path, "metrics")
    assert listed.returncode == 0, listed.stderr
    assert "length_ratio" in listed.stdout and "cap" in listed.stdout

    preds, refs = tmp_path / "p.jsonl", tmp_path / "r.jsonl"
    preds.write_text('{"id": "1", "prediction": "ab"}\n{"id": "2", "prediction": "abcd"}\n')
    refs.write_text('{"id": "1", "reference": "abcd"}\n{"id": "2", "reference": "abcd"}\n')
    scored = _tuneval(
        env,
        tmp_path,
        "score",
        str(preds),
        "--references",
        str(refs),
        "-m",
        "length_ratio",
        "--json",
    )
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)[0]
    assert result["metric"] == "length_ratio" and result["value"] == 0.75

    evalset = tmp_path / "eval.jsonl"
    evalset.write_text('{"id": "1", "prompt": "hello"}\n', encoding="utf-8")
    out = tmp_path / "run"
    argv = ["generate", "--data", str(evalset), "--model", "shout:any", "--out", str(out)]
    generated = _tuneval(env, tmp_path, *argv)
    assert generated.returncode == 0, generated.stderr
    record = json.loads((out / "generations.jsonl").read_text().splitlines()[0])
    assert record["output"] == "HELLO!"


def test_a_broken_plugin_is_one_error_line_naming_it(tmp_path):
    env = _install(tmp_path, "import a_module_that_is_not_installed\n")
    listed = _tuneval(env, tmp_path, "metrics")
    assert listed.returncode == 1
    assert listed.stderr.startswith("Error: ") and "Traceback" not in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1, listed.stderr
    assert "plugin 'length_ratio'" in listed.stderr and "tuneval.metrics" in listed.stderr
    assert "a_module_that_is_not_installed" in listed.stderr
    assert "tuneval-demo-plugin" in listed.stderr


def test_a_plugin_metric_missing_a_method_is_one_error_line_naming_it(tmp_path):
    """No `signature_fields`: the class cannot be instantiated; say so, not a TypeError."""
    source = PLUGIN.replace("    def signature_fields(self):", "    def _unused(self):")
    env = _install(tmp_path, source)
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "1", "prediction": "ab", "reference": "abcd"}\n')
    scored = _tuneval(env, tmp_path, "score", str(preds), "-m", "length_ratio")
    assert scored.returncode == 1 and "Traceback" not in scored.stderr
    assert len(scored.stderr.strip().splitlines()) == 1, scored.stderr
    line = scored.stderr
    assert line.startswith("Error: the metric plugin 'length_ratio' (tuneval_demo_plugin")
    assert "does not implement the abstract method(s) signature_fields" in line
    assert "tuneval-demo-plugin" in line
