"""Provider batch mode as users run it: ``tuneval run/generate/judge --batch`` on loopback stubs.

The stubs implement OpenAI's files/batches endpoints and Anthropic's message batches, count
every batch created, and can hold a batch pending. A run killed (SIGKILL) while its batch is
pending must, when rerun, poll that same batch instead of submitting a second one, and end
with every record present exactly once and the cost in results.json.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import run_cli
from stub_loader import stub_server_module

stub_server = stub_server_module()

N = 6


def write_eval(folder: Path, fail: str | None = None) -> Path:
    rows = [{"id": f"q{i}", "prompt": f"say {i}", "reference": f"{i} yas"} for i in range(N)]
    if fail is not None:
        rows[1]["prompt"] += f" {fail}"
    path = folder / "eval.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_config(folder: Path, model_url: str, judge_url: str) -> Path:
    write_eval(folder)
    path = folder / "config.yaml"
    path.write_text(
        "name: batched\neval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models:\n"
        f"  base: {{spec: 'openai-compatible:{model_url}#base', "
        "prompt_template: 'Q: {prompt}'}\n"
        f"  finetuned: {{spec: 'openai-compatible:{model_url}#tuned'}}\n"
        "judge:\n"
        "  spec: anthropic:claude-3-5-haiku-20241022\n"
        f"  options: {{base_url: '{judge_url.removesuffix('/v1')}'}}\n"
        "  single: false\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 100, trials: 200}\n"
        "calls:\n"
        "  batch: true\n"
        "  batch_poll_s: 0.05\n"
        "  batch_poll_max_s: 0.2\n"
        "  prices: {base: {input: 1.0, output: 2.0}, tuned: {input: 1.0, output: 2.0}}\n"
    )
    return path


def tuneval(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tuneval", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # two `tuneval run` processes: about a minute on two busy cores
def test_killed_run_resumes_its_pending_batch_without_submitting_again(tmp_path):
    env = {
        **os.environ,
        "TUNEVAL_CACHE_DIR": str(tmp_path / "cache"),
        "ANTHROPIC_API_KEY": "sk-ant-test",
    }
    with (
        stub_server.serve_in_thread(stub_server.StubConfig()) as (model_url, models),
        stub_server.serve_in_thread(stub_server.StubConfig(reply="verdict")) as (judge_url, judge),
    ):
        config = write_config(tmp_path, model_url, judge_url)
        run_dir = tmp_path / "runs" / "batched"
        models.hold = True  # the first batch stays pending until the run is killed
        first = tuneval(["run", str(config)], env)
        deadline = time.monotonic() + 120
        while models.batch_polls < 2:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the run never polled its batch"
            time.sleep(0.05)
        first.kill()
        first.communicate()
        (pending,) = json.loads((run_dir / "batches.json").read_text())["batches"]
        assert not pending["collected"] and len(pending["custom_ids"]) == N
        assert models.batches_created == {"openai": 1}

        models.hold = False
        second = tuneval(["run", str(config)], env)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, (out, err)
        assert "Traceback" not in err
        assert "Estimated cost of the calls this run made: $" in out
        # base: the killed run's batch, polled again; fine-tuned: its own, once.
        assert models.batches_created == {"openai": 2}
        assert models.requests == 0 and judge.requests == 0  # nothing went live

    gens = [json.loads(line) for line in (run_dir / "generations.jsonl").read_text().splitlines()]
    pairs = sorted((g["model"], g["example_id"]) for g in gens)
    assert pairs == sorted((m, f"q{i}") for m in ("base", "finetuned") for i in range(N))
    assert all(g["output"] for g in gens)
    stored = json.loads((run_dir / "batches.json").read_text())["batches"]
    assert stored[0]["id"] == pending["id"] and all(b["collected"] for b in stored)
    judged = [b for b in stored if b["provider"] == "anthropic"]
    assert len(judged) == judge.batches_created["anthropic"]
    assert sum(len(b["custom_ids"]) for b in judged) == 2 * N  # both orders, once each

    cost = json.loads((run_dir / "results.json").read_text())["cost"]
    by_model = {(c["model"], c["mode"]): c for c in cost["lines"]}
    assert set(by_model) == {
        ("base", "batch"),
        ("tuned", "batch"),
        ("claude-3-5-haiku-20241022", "batch"),
    }
    assert by_model[("base", "batch")]["calls"] == N  # paid once, though polled by two runs
    base = by_model[("base", "batch")]
    expected = (base["prompt_tokens"] * 1.0 + base["completion_tokens"] * 2.0) / 1e6 * 0.5
    assert abs(base["usd"] - expected) < 1e-12
    assert cost["total_usd"] is not None and cost["batch_saved_usd"] > 0
    report = (run_dir / "report.md").read_text()
    assert "## Cost estimate" in report and "batch mode saved" in report
    assert "Cost estimate" in (run_dir / "report.html").read_text()


def test_generate_batch_failed_item_exits_1_like_a_failed_live_call(tmp_path, monkeypatch, capsys):
    data = write_eval(tmp_path, fail="[batch-fail]")
    with stub_server.serve_in_thread(stub_server.StubConfig()) as (url, state):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", url.removesuffix("/v1"))
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        argv = ["generate", "--model", "anthropic:claude-3-5-haiku-20241022", "--data", str(data)]
        code, _, err = run_cli([*argv, "--out", str(tmp_path / "a"), "--batch"], capsys)
        assert code == 1, err
        assert "1 of 6 model calls failed" in " ".join(err.split()) or "1 of 6" in err
        assert "invalid_request_error" in err and "Traceback" not in err
        code, _, err = run_cli(
            [*argv, "--out", str(tmp_path / "b"), "--batch", "--allow-failures"], capsys
        )
        assert code == 0, err
        assert state.batches_created == {"anthropic": 2} and state.requests == 0
    records = [json.loads(x) for x in (tmp_path / "b" / "generations.jsonl").open()]
    assert sum(r["output"] is None for r in records) == 1 and len(records) == N


def test_judge_pairwise_batch(tmp_path, monkeypatch, capsys):
    data = write_eval(tmp_path)
    run = tmp_path / "run"
    with (
        stub_server.serve_in_thread(stub_server.StubConfig()) as (model_url, _),
        stub_server.serve_in_thread(stub_server.StubConfig(reply="verdict")) as (judge_url, judge),
    ):
        for name in ("base", "finetuned"):
            argv = ["generate", "--model", f"openai-compatible:{model_url}#m", "--data", str(data)]
            code, _, err = run_cli([*argv, "--out", str(run), "--name", name], capsys)
            assert code == 0, err
        spec = f"openai-compatible:{judge_url}#gpt-4o-mini"
        code, _, err = run_cli(
            ["judge", "pairwise", "--run", str(run), "--judge", spec, "--batch"], capsys
        )
        assert code == 0, err
        assert judge.batches_created == {"openai": 1} and judge.requests == 0
    judged = [json.loads(x) for x in (run / "judge_pairwise.jsonl").open()]
    assert len(judged) == 2 * N and all(j["position"] is not None for j in judged)
    usage = [json.loads(x) for x in (run / "usage.jsonl").open()]
    # Both models answered alike, so the two orders of an item are one request, paid once.
    assert [u["mode"] for u in usage if u["model"] == "gpt-4o-mini"] == ["batch"] * N
    assert {u["mode"] for u in usage if u["model"] == "m"} == {"live"}


def test_generate_help_names_batch_and_the_replica_form(capsys):
    code, out, _ = run_cli(["generate", "--help"], capsys)
    text = " ".join(out.replace("│", " ").split())
    assert code == 0
    assert "openai-compatible:URL1,URL2#MODEL" in text.replace(", ", ",")
    assert "--batch" in text
