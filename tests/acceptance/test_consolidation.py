"""One shape per concept: the statistics every package reports come from `tuneval.stats`.

Reached as a user reaches them (``import tuneval``): the public estimate functions, the one
`Interval` type the judge, human and workflow records share, and no module borrowing another
module's private names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import tuneval
from cli_helpers import run_cli

SRC = Path(tuneval.__file__).parent


def test_mean_ci_is_the_interval_the_judge_and_human_results_report():
    from tuneval.judge.records import Judgment
    from tuneval.judge.summary import Bootstrap, score_summary
    from tuneval.stats import Interval, mean_ci

    scores = [3, 7, 8, 5, 9, 6, 7, 4, 8, 10, 2, 6]
    judgments = [
        Judgment(
            example_id=f"q{i}",
            model="m",
            judge="j",
            config_key="k",
            prompt="p",
            raw=str(s),
            score=s,
            scale=(1, 10),
            attempts=1,
        )
        for i, s in enumerate(scores)
    ]
    boot = Bootstrap(resamples=500, seed=7, confidence=0.9)
    summary = score_summary(judgments, boot)
    direct = mean_ci(np.array(scores, dtype=float), resamples=500, seed=7, confidence=0.9)
    assert summary.mean == direct
    assert isinstance(summary.mean, Interval)
    # The expanded interval is at least as wide as the plain percentile one on the same draws.
    plain = mean_ci(
        np.array(scores, dtype=float), resamples=500, seed=7, confidence=0.9, method="percentile"
    )
    assert direct.ci_low <= plain.ci_low and plain.ci_high <= direct.ci_high
    assert plain.value == direct.value == pytest.approx(np.mean(scores))


def test_one_interval_and_one_outcome_type_across_packages():
    import tuneval.human.results as human_results
    import tuneval.human.unblind as unblind
    import tuneval.judge as judge
    import tuneval.judge.records as judge_records
    import tuneval.records as records
    import tuneval.stats as stats

    assert judge.Interval is stats.Interval
    assert human_results.WinRate.model_fields["win_rate"].annotation is stats.Interval
    assert not hasattr(human_results, "Estimate")
    assert judge_records.Outcome is records.Outcome is unblind.Outcome
    # The evaluation's ScoreReport and the judge's report are different records, so their
    # names differ.
    assert judge.JudgeScoreReport is not tuneval.ScoreReport


def test_paired_difference_gives_the_interval_and_p_value_of_its_test():
    from tuneval.stats import paired_difference

    rng = np.random.default_rng(3)
    base = {f"q{i}": float(x) for i, x in enumerate(rng.uniform(0, 1, 40))}
    tuned = {k: v + 0.2 + float(rng.normal(0, 0.1)) for k, v in base.items()}
    result = paired_difference(base, tuned, trials=2000, seed=1)
    assert result.n == result.units == 40
    assert result.interval is not None and result.p_value is not None
    assert result.interval.ci_low > 0.0 and result.p_value < 0.05
    assert result.interval.value == pytest.approx(np.mean([tuned[k] - base[k] for k in base]))
    clusters = {k: str(i // 4) for i, k in enumerate(base)}
    clustered = paired_difference(base, tuned, trials=2000, seed=1, clusters=clusters)
    assert clustered.units == 10
    too_few = paired_difference({"a": 1.0}, {"a": 2.0}, trials=100, seed=1)
    assert too_few.n == 1 and too_few.interval is None and too_few.p_value is None


def _private_imports(path: Path) -> list[str]:
    """``from tuneval.x import _name`` of a private name defined in another module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tuneval"):
            module = node.module or ""
            for alias in node.names:
                name = alias.name
                if not name.startswith("_") or name.startswith("__"):
                    continue
                # A package's private *module* is shared within that package on purpose.
                if (SRC.joinpath(*module.split(".")[1:], f"{name}.py")).exists():
                    continue
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {module}.{name}")
    return found


def test_no_module_imports_another_modules_private_names():
    offenders = [hit for path in sorted(SRC.rglob("*.py")) for hit in _private_imports(path)]
    assert offenders == []


def _cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code, out, err = run_cli(argv, capsys)
    return code, " ".join((out + err).split())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"task_id": "a", "task_id": "b"}\n', "duplicate key 'task_id' in one object"),
        (b'{"task_id": "caf\xe9"}\n', "the file is not UTF-8 (byte 0xe9 at byte offset"),
        (b"{not json\n", ":1: malformed JSON"),
    ],
)
def test_benchmark_data_is_read_as_strictly_as_an_eval_set(tmp_path, capsys, content, expected):
    """`tuneval bench --data` and `tuneval dataset` share one reader, so one error wording."""
    data = tmp_path / "humaneval.jsonl"
    data.write_bytes(content)
    argv = ["bench", "humaneval", "--model", "mock:echo", "--data", str(data)]
    code, bench_out = _cli(capsys, [*argv, "--out", str(tmp_path / "r")])
    assert code == 1 and "Traceback" not in bench_out
    assert f"{data}:1: " in bench_out and expected in bench_out
    _, dataset_out = _cli(capsys, ["dataset", "validate", str(data)])
    assert expected in dataset_out


def test_judge_calls_use_the_call_cache_and_refuse_anything_else(tmp_path):
    import asyncio

    from tuneval.judge.engine import judge_all
    from tuneval.models import create_backend
    from tuneval.models.base import Message, Request
    from tuneval.models.cache import CallCache

    requests = [Request(messages=(Message(role="user", content="7"),))]
    finals: list[object] = []

    def run(cache: object) -> int:
        backend = create_backend("mock:echo")
        asyncio.run(judge_all(backend, requests, int, lambda i, f: finals.append(f), cache=cache))
        return len(backend.calls)  # type: ignore[attr-defined]

    cache = CallCache(tmp_path / "cache")
    assert run(cache) == 1 and run(cache) == 0  # the second run is answered by the cache
    assert [f.verdict for f in finals] == [7, 7]  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="CallCache"):
        run(str(tmp_path / "cache"))
