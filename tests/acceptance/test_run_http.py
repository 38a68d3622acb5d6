"""`tuneval run` against HTTP models (openai-compatible, openai, anthropic) served on 127.0.0.1.

A fresh call cache, then the same config again from the cache: both runs must exit as the
gate says, print their verdicts, and the warm run must call no model.
"""

import json
from pathlib import Path

import pytest

from cli_helpers import run_cli
from stub_loader import stub_server_module

stub_server = stub_server_module()

GOOD = "{prompt}"
BAD = "Q: {prompt}"  # the stub answers with the user turn reversed: "...:Q" is never right


@pytest.fixture(scope="module")
def servers():
    """A model server (answers reversed) and a judge server (pairwise verdicts)."""
    with (
        stub_server.serve_in_thread(stub_server.StubConfig()) as (model_url, model_state),
        stub_server.serve_in_thread(stub_server.StubConfig(reply="verdict")) as (judge_url, _),
    ):
        yield model_url, model_state, judge_url


def write_config(folder: Path, model_url: str, judge_spec: str, tuned_template: str) -> Path:
    rows = [{"id": f"q{i}", "prompt": f"say {i}", "reference": f"{i} yas"} for i in range(8)]
    (folder / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    base_template = BAD if tuned_template == GOOD else GOOD
    path = folder / "config.yaml"
    path.write_text(
        "name: cold\neval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models:\n"
        f"  base: {{spec: 'openai-compatible:{model_url}#base', "
        f"prompt_template: '{base_template}'}}\n"
        f"  finetuned: {{spec: 'openai-compatible:{model_url}#tuned', "
        f"prompt_template: '{tuned_template}'}}\n"
        f"judge: {{spec: '{judge_spec}', single: false}}\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 100, trials: 200}\n"
    )
    return path


def cold_then_warm(config: Path, capsys, state, expect_code: int) -> list[str]:
    """Run the config on a fresh cache, then again under a new name from the cache."""
    outputs = []
    for name in ("cold", "warm"):
        before = state.requests
        code, out, err = run_cli(
            ["run", str(config), "--name", name, "--fail-if-worse", "exact_match"], capsys
        )
        assert code == expect_code, (name, out, err)
        assert "Traceback" not in err and "Event loop is closed" not in err
        assert "exact_match.exact_match" in out  # the verdict lines were printed
        assert (config.parent / "runs" / name / "results.json").is_file()
        made = state.requests - before
        assert made == (16 if name == "cold" else 0), (name, made)
        outputs.append(out + err)
    return outputs


@pytest.mark.parametrize(("tuned", "code"), [(GOOD, 0), (BAD, 1)], ids=["better", "worse"])
def test_openai_compatible_models_and_openai_judge(
    tmp_path, monkeypatch, capsys, servers, tuned, code
):
    model_url, state, judge_url = servers
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "fresh-cache"))
    monkeypatch.setenv("OPENAI_BASE_URL", judge_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = write_config(tmp_path, model_url, "openai:judge", tuned)
    cold, warm = cold_then_warm(config, capsys, state, code)
    for out in (cold, warm):
        assert ("FAIL: fine-tuned is significantly worse on exact_match" in out) == (code == 1)
        assert "win_rate" in out  # the judge's verdict


def test_anthropic_judge(tmp_path, monkeypatch, capsys, servers):
    pytest.importorskip("anthropic")
    model_url, state, judge_url = servers
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "fresh-cache"))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", judge_url.removesuffix("/v1"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    config = write_config(tmp_path, model_url, "anthropic:claude-judge", GOOD)
    cold, warm = cold_then_warm(config, capsys, state, 0)
    assert "win_rate" in cold and "win_rate" in warm


def test_full_evaluation_api_cold(tmp_path, monkeypatch, servers):
    import tuneval

    model_url, _, judge_url = servers
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "fresh-cache"))
    config = write_config(tmp_path, model_url, f"openai-compatible:{judge_url}#judge", GOOD)
    result = tuneval.full_evaluation(config)
    outcomes = {v.measure: v.outcome for v in result.results.verdicts}
    assert outcomes["exact_match.exact_match"] == "better"
