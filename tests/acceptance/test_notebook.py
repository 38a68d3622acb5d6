"""examples/notebook.ipynb runs in a real Jupyter kernel and matches a CLI run of its settings."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from tuneval.cli import main

NOTEBOOK = Path(__file__).parents[2] / "examples" / "notebook.ipynb"
VOLATILE = {"created", "mean_latency_s", "latency_s", "elapsed_s", "name", "backend", "spec"}


def _numbers(node: object, path: str = "") -> dict[str, float]:
    """Every number in a results.json tree by its path, leaving out timings and names."""
    if isinstance(node, dict):
        out: dict[str, float] = {}
        for key, value in node.items():
            if key not in VOLATILE:
                out |= _numbers(value, f"{path}.{key}")
        return out
    if isinstance(node, list):
        return {
            k: v for i, item in enumerate(node) for k, v in _numbers(item, f"{path}[{i}]").items()
        }
    if isinstance(node, bool) or not isinstance(node, int | float):
        return {}
    return {path: float(node)}


@pytest.mark.slow
def test_notebook_runs_in_a_kernel_and_equals_the_cli(tmp_path: Path, monkeypatch, capsys):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("peft")
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "nb"
    work.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    started = time.monotonic()
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    # One torch thread: the tiny model gains nothing from more on a busy test machine.
    client.execute(env={**os.environ, "OMP_NUM_THREADS": "1"})
    took = time.monotonic() - started
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "exact_match" in text and "token_f1" in text
    assert took < 60, f"the notebook took {took:.0f} s; keep it under a minute"

    run = work / "runs" / "notebook"
    shutil.copy(run / "eval_input.jsonl", tmp_path / "eval.jsonl")
    config = {
        "name": "cli", "eval_set": str(tmp_path / "eval.jsonl"), "output_dir": str(tmp_path),
        "models": {
            "base": {"spec": f"hf:{work / 'models/base'}"},
            "finetuned": {"spec": f"hf:{work / 'models/base'}+{work / 'models/adapter'}"},
        },
        "metrics": {"default": ["exact_match:lowercase=true", "token_f1", "rouge"]},
        "decoding": {"max_tokens": 6}, "comparison": {"resamples": 200, "trials": 500},
    }  # fmt: skip
    (tmp_path / "cli.yaml").write_text(json.dumps(config))
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "cli.yaml")])
    assert exit_.value.code == 0, capsys.readouterr()
    in_memory = json.loads((run / "results.json").read_text())
    cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    numbers = _numbers(in_memory)
    assert any(".metrics.comparisons" in k for k in numbers)
    assert numbers == _numbers(cli)
    mem_gens = (run / "generations.jsonl").read_text().splitlines()
    cli_gens = (tmp_path / "cli" / "generations.jsonl").read_text().splitlines()
    outputs = [
        [(g["model"], g["output"]) for g in map(json.loads, x)] for x in (mem_gens, cli_gens)
    ]
    assert sorted(outputs[0]) == sorted(outputs[1])
    assert sys.executable  # the kernel is the venv's python3 (ipykernel's native kernelspec)
