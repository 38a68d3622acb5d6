"""MMLU: prompt format, loaders, both modes end to end with the mock (exact numbers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import tuneval
from tuneval.benchmarks import BenchOptions, get_benchmark
from tuneval.benchmarks.mmlu import extract_letter, summarize, wilson
from tuneval.benchmarks.mmlu_data import CATEGORY, SUBJECTS, MCQuestion, format_prompt, load_split
from tuneval.errors import DataError, UsageError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.records import Score
from tuneval.rundir import RunDir, read_jsonl

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mmlu"

KNOWN_PROMPT = (
    "The following are multiple choice questions (with answers) about high school physics.\n\n"
    "Q1?\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n"
    "Q2?\nA. w\nB. x\nC. y\nD. z\nAnswer:"
)


def _q(text: str, choices: tuple[str, str, str, str], answer: int) -> MCQuestion:
    return MCQuestion(subject="high_school_physics", question=text, choices=choices, answer=answer)


def test_prompt_format() -> None:
    shot = _q("Q1?", ("a", "b", "c", "d"), 2)
    q = _q("Q2?", ("w", "x", "y", "z"), 0)
    assert format_prompt(q, [shot]) == KNOWN_PROMPT


def test_formats_strip_and_header() -> None:
    """lm-eval strips the question; the original script keeps it and says "about  high"."""
    shot = _q(" Q1?", ("a", "b", "c", "d"), 2)
    q = _q(" Q2? ", ("w", "x", "y", "z"), 0)
    lm_eval = format_prompt(q, [shot], "lm-eval")
    assert lm_eval == KNOWN_PROMPT
    original = format_prompt(q, [shot], "original")
    assert original.startswith(
        "The following are multiple choice questions (with answers) about  high school physics."
        "\n\n Q1?\nA. a\n"
    )
    assert original.endswith("\n\n Q2? \nA. w\nB. x\nC. y\nD. z\nAnswer:")
    assert format_prompt(q, [shot], "chat") == KNOWN_PROMPT.replace("Q1?", " Q1?").replace(
        "Q2?", " Q2? "
    )


def test_subjects_and_categories() -> None:
    assert len(SUBJECTS) == 57
    counts = {c: list(CATEGORY.values()).count(c) for c in set(CATEGORY.values())}
    assert counts == {"STEM": 18, "humanities": 13, "social sciences": 12, "other": 14}


def test_extract_letter() -> None:
    assert extract_letter("The answer is (C).") == "C"
    assert extract_letter("B. because") == "B"
    assert extract_letter("Answer: D") == "D"
    # Strict: a lowercase letter is the article, a bare letter in prose is no answer.
    assert extract_letter("Answer: d") is None
    assert extract_letter("I think D") is None
    assert extract_letter("no idea") is None


def _write_subject(root: Path, subject: str, rows: list[str], split: str) -> None:
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / split / f"{subject}_{split}.csv").write_text("".join(r + "\n" for r in rows))


def _fixture(root: Path) -> None:
    dev = [f"dev{i},a,b,c,d,A" for i in range(5)]  # original format: no header, letters
    _write_subject(root, "anatomy", dev, "dev")
    _write_subject(root, "anatomy", ["t0,a,b,c,d,A", "t1,a,b,c,d,B", "t2,a,b,c,d,C"], "test")
    hub = ["question,choice0,choice1,choice2,choice3,answer"]  # hub export: header, index
    _write_subject(root, "virology", hub + [f"v{i},a,b,c,d,0" for i in range(5)], "dev")
    _write_subject(root, "virology", [*hub, "u0,a,b,c,d,0", "u1,a,b,c,d,3"], "test")


def test_both_formats_load(tmp_path: Path) -> None:
    _fixture(tmp_path)
    assert [q.answer for q in load_split(tmp_path, "anatomy", "test")] == [0, 1, 2]
    assert [q.answer for q in load_split(tmp_path, "virology", "test")] == [0, 3]


def test_malformed_csv(tmp_path: Path) -> None:
    _write_subject(tmp_path, "anatomy", ["q,a,b,c,d,A", "q,a,b,c,d,E"], "test")
    with pytest.raises(DataError) as err:
        load_split(tmp_path, "anatomy", "test")
    assert err.value.line == 2 and err.value.field == "answer"
    _write_subject(tmp_path, "anatomy", ["q,a,b"], "test")
    with pytest.raises(DataError, match=r"anatomy_test\.csv:1: expected 6 columns"):
        load_split(tmp_path, "anatomy", "test")


def test_loglikelihood_mode_exact(tmp_path: Path) -> None:
    _fixture(tmp_path)
    contexts: list[str] = []

    # Always prefers " A": right on anatomy t0 and virology u0 -> 2 of 5.
    def logprob(context: str, cont: str) -> float:
        contexts.append(context)
        return 0.0 if cont == " A" else -1.0

    backend = MockBackend("mock:ll", responder=lambda r: "", logprob=logprob)
    run = RunDir(tmp_path / "run")
    opts = BenchOptions(data=tmp_path, subjects=("anatomy", "virology"))
    summary = get_benchmark("mmlu").run(backend, run, opts)
    assert summary["mode"] == "loglikelihood"
    assert summary["overall"]["micro"]["accuracy"] == pytest.approx(2 / 5)
    assert summary["overall"]["macro"]["accuracy"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert summary["subjects"]["anatomy"]["accuracy"] == pytest.approx(1 / 3)
    assert summary["categories"]["other"]["micro"]["n"] == 5
    scores = read_jsonl(run.record_file("scores"), Score)
    assert [s.values["correct"] for s in scores] == [1, 0, 0, 1, 0]
    # lm-eval format by default: plain text scored right after "Answer:", micro headline.
    assert all(c.endswith("\nAnswer:") and c.startswith("The following") for c in contexts)
    assert summary["format"] == "lm-eval" and summary["accuracy"] == pytest.approx(2 / 5)
    assert summary["signature"] == (
        "mmlu|shots:5|format:lm-eval|mode:loglikelihood|template:none|agg:micro|"
        f"tuneval:{tuneval.__version__}"
    )
    assert summary["letter_mass"] == pytest.approx(1 + 3 * math.exp(-1))
    gen = RunDir(run.path).generations()[0]
    assert gen.metadata["loglikelihoods"] == {"A": 0.0, "B": -1.0, "C": -1.0, "D": -1.0}


def test_chat_format_goes_through_the_chat_template(tmp_path: Path) -> None:
    """``chat`` scores after the template (`loglikelihood`); others use plain text."""
    _fixture(tmp_path)
    calls: list[str] = []

    class Tracking(MockBackend):
        async def loglikelihood(self, context, continuations):  # type: ignore[no-untyped-def]
            calls.append("chat")
            return await super().loglikelihood(context, continuations)

        async def loglikelihood_text(self, prompt, continuations):  # type: ignore[no-untyped-def]
            calls.append("text")
            return await super().loglikelihood_text(prompt, continuations)

    backend = Tracking("mock:ll", responder=lambda r: "", logprob=lambda c, x: -1.0)
    opts = BenchOptions(data=tmp_path, subjects=("anatomy",), format="chat")
    summary = get_benchmark("mmlu").run(backend, RunDir(tmp_path / "chat"), opts)
    assert calls == ["chat"] * 3 and "template:chat" in summary["signature"]
    calls.clear()
    opts = opts.model_copy(update={"format": "original"})
    summary = get_benchmark("mmlu").run(backend, RunDir(tmp_path / "orig"), opts)
    assert calls == ["text"] * 3 and "format:original" in summary["signature"]
    with pytest.raises(UsageError, match="format must be one of lm-eval, original, chat"):
        opts = opts.model_copy(update={"format": "helm"})
        get_benchmark("mmlu").run(backend, RunDir(tmp_path / "bad"), opts)


def test_generate_mode_exact(tmp_path: Path) -> None:
    _fixture(tmp_path)
    answers = {"t0": "Answer: A", "t1": "The answer is (C)", "t2": "C", "u0": "?", "u1": "D"}

    def responder(request: Request) -> str:
        last = request.messages[-1].content.rsplit("\n\n", 1)[-1]
        return answers[last.split("\n", 1)[0]]

    run = RunDir(tmp_path / "run")
    opts = BenchOptions(data=tmp_path, subjects=("anatomy", "virology"), limit=2)
    summary = get_benchmark("mmlu").run(MockBackend("mock:g", responder=responder), run, opts)
    assert summary["mode"] == "generate" and summary["items"] == 4
    # u0 ("?") is unscored: accuracy over the 3 scored, and 2/4 with unscored as wrong.
    assert summary["overall"]["micro"]["accuracy"] == pytest.approx(2 / 3)  # t0 and u1
    assert summary["unscored"] == 1 and summary["unscored_reasons"] == {"no answer letter": 1}
    assert summary["accuracy_unscored_as_wrong"]["accuracy"] == pytest.approx(2 / 4)


def test_unknown_subject(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown MMLU subject"):
        get_benchmark("mmlu").run(
            MockBackend("mock:echo"), RunDir(tmp_path), BenchOptions(subjects=("nope",))
        )


def test_intervals() -> None:
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    s = summarize({"anatomy": [1, 0], "virology": [1, 1, 1, 0]})
    macro = s["overall"]["macro"]
    half = 1.959963984540054 * math.sqrt(0.25 / 2 + 0.1875 / 4) / 2
    assert macro["accuracy"] - macro["ci_low"] == pytest.approx(half)
    assert macro["ci_high"] == 1.0  # capped


@pytest.mark.skipif(not SHARED.exists(), reason="shared MMLU data (../shared/data) absent")
def test_shared_data_all_subjects() -> None:
    total = sum(len(load_split(SHARED, s, "test")) for s in SUBJECTS)
    assert total == 14042
    assert all(len(load_split(SHARED, s, "dev")) == 5 for s in SUBJECTS)


def test_two_runs_compare_with_tuneval_compare(tmp_path: Path, capsys) -> None:
    """Benchmark runs of two models compare item by item with `tuneval compare DIR DIR`."""
    from tuneval.cli import main

    _fixture(tmp_path / "data")
    right = {"t0": "A", "t1": "B", "t2": "C", "u0": "A", "u1": "D"}

    def model(correct: set[str]):
        def respond(request: Request) -> str:
            q = request.messages[-1].content.rsplit("\n\n", 1)[-1].split("\n", 1)[0]
            return right[q] if q in correct else "Answer: B" if right[q] != "B" else "Answer: A"

        return respond

    opts = BenchOptions(data=tmp_path / "data", subjects=("anatomy", "virology"))
    for name, correct in (("base", {"t0"}), ("tuned", {"t0", "t1", "t2", "u0", "u1"})):
        mock = MockBackend(f"mock:{name}", responder=model(correct))
        get_benchmark("mmlu").run(mock, RunDir(tmp_path / name), opts)
    with pytest.raises(SystemExit) as done:
        main(["compare", str(tmp_path / "base"), str(tmp_path / "tuned"), "--json"])
    assert done.value.code == 0
    [measure] = json.loads(capsys.readouterr().out)
    assert (measure["name"], measure["n"]) == ("correct", 5)
    assert measure["base"] == pytest.approx(0.2) and measure["finetuned"] == 1.0
    assert measure["difference"]["value"] == pytest.approx(0.8)
    with pytest.raises(SystemExit) as bad:
        main(["compare", str(tmp_path / "base"), str(tmp_path / "data")])
    assert bad.value.code == 2 and "not a benchmark run" in capsys.readouterr().err


def test_workflow_system_prompt_precedes_plain_prompt(tmp_path: Path) -> None:
    """In the workflow, a model's system prompt comes first, then a blank line (lm-eval's
    system instruction without a chat template)."""
    from tuneval.workflow.benchmarks_step import PromptedBackend

    _fixture(tmp_path)
    seen: list[str] = []

    def logprob(context: str, cont: str) -> float:
        seen.append(context)
        return 0.0

    inner = MockBackend("mock:ll", responder=lambda r: "", logprob=logprob)
    backend = PromptedBackend(inner, "finetuned", "Be exact.")
    opts = BenchOptions(data=tmp_path, subjects=("anatomy",), limit=1)
    summary = get_benchmark("mmlu").run(backend, RunDir(tmp_path / "run"), opts)
    assert summary["items"] == 1 and summary["mode"] == "loglikelihood"
    assert seen and all(c.startswith("Be exact.\n\nThe following are") for c in seen)


@pytest.mark.skipif(not SHARED.exists(), reason="shared MMLU data (../shared/data) absent")
def test_prompts_byte_equal_to_lm_eval(tmp_path: Path) -> None:
    """lm-eval's own rendering of its default MMLU task (5-shot, first_n) equals ours, on
    questions with and without surrounding spaces; the letters follow as `` A``..`` D``."""
    pytest.importorskip("lm_eval")
    import importlib.util

    from lm_eval.tasks import TaskManager

    check_py = Path(__file__).resolve().parents[2] / "examples" / "mmlu_lmeval" / "check.py"
    spec = importlib.util.spec_from_file_location("mmlu_lmeval_check", check_py)
    assert spec is not None and spec.loader is not None
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    subjects = ["moral_disputes", "anatomy"]  # moral_disputes' questions start with a space
    tasks = check.write_tasks(SHARED, subjects, tmp_path)
    manager = TaskManager(include_path=str(tasks))
    for subject in subjects:
        task = manager.load(f"mmlu_local_{subject}")["tasks"][f"mmlu_local_{subject}"]
        task.set_config(key="num_fewshot", value=5)
        task.build_all_requests(limit=3)
        shots = load_split(SHARED, subject, "dev")[:5]
        test = load_split(SHARED, subject, "test")
        for inst in task.instances:
            context, continuation = inst.args
            assert context == format_prompt(test[inst.doc_id], shots, "lm-eval")
            assert continuation == " " + "ABCD"[inst.idx]
        assert len(task.instances) == 12
        if subject == "moral_disputes":  # the case where stripping matters is covered
            assert test[0].question != test[0].question.strip()


def test_loglikelihood_mode_inside_a_running_event_loop(tmp_path: Path) -> None:
    # A notebook calls the benchmark from inside its running loop: asyncio.run would refuse.
    import asyncio

    _fixture(tmp_path)
    backend = MockBackend(
        "mock:ll", responder=lambda r: "", logprob=lambda c, x: 0.0 if x == " A" else -1.0
    )
    opts = BenchOptions(data=tmp_path, subjects=("anatomy", "virology"))

    async def main() -> dict:
        return get_benchmark("mmlu").run(backend, RunDir(tmp_path / "run"), opts)

    summary = asyncio.run(main())
    assert summary["overall"]["micro"]["accuracy"] == pytest.approx(2 / 5)
