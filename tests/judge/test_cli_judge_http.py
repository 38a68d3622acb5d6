"""`tuneval judge pairwise` with an HTTP judge: the CLI closes the judge after its calls."""

import sys
from pathlib import Path

import pytest

from tuneval.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from stub_server import StubConfig, serve_in_thread


def test_pairwise_with_an_http_judge_exits_0(run_factory, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    rundir = run_factory({"base": ["x", "y"], "finetuned": ["xx", "yy"]})
    with serve_in_thread(StubConfig(reply="verdict")) as (url, state):
        argv = [
            "judge", "pairwise", "--run", str(rundir.path), "--a", "base", "--b", "finetuned",
            "--judge", f"openai-compatible:{url}#judge", "--resamples", "100",
        ]  # fmt: skip
        with pytest.raises(SystemExit) as exc:
            main(argv)
    _, err = capsys.readouterr()
    assert exc.value.code == 0, err
    assert "Event loop is closed" not in err and state.ok == 4  # 2 items, both orders
