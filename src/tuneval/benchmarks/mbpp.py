"""MBPP (Austin et al. 2021): short Python tasks checked by three asserts.

Two variants: ``mbpp`` (the full release's test split, task ids 11-510) and
``mbpp-sanitized`` (the hand-verified subset's test split). Local data: ``mbpp.jsonl``
(keys text, code, task_id, test_setup_code, test_list) and ``sanitized-mbpp.json`` (keys
prompt, code, task_id, test_imports, test_list). Hub: ``mbpp`` (configs full/sanitized).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import Benchmark, BenchOptions, register_benchmark
from tuneval.benchmarks.code import CodeProblem, extract_code, run_code_benchmark
from tuneval.models.base import ModelBackend
from tuneval.rundir import RunDir

HUB_ID = "mbpp"
TEST_IDS = range(11, 511)
"""Task ids of the test split (the release's split: 1-10 prompt, 11-510 test, rest train/val)."""


def format_prompt(text: str, tests: list[str]) -> str:
    """The prompt of the MBPP paper: task, the tests it must pass, code in a block."""
    return (
        f"You are an expert Python programmer, and here is your task: {text} "
        "Your code should pass these tests:\n\n" + "\n".join(tests) + "\n\n"
        "Answer with the code in a ```python code block."
    )


def _problem(obj: dict[str, Any], sanitized: bool, where: Path | str, line: int) -> CodeProblem:
    text = field(obj, "prompt" if sanitized else "text", str, where, line)
    tests = field(obj, "test_list", list, where, line)
    if sanitized:
        setup = "\n".join(field(obj, "test_imports", list, where, line))
    else:
        setup = str(obj.get("test_setup_code") or "")
    task = field(obj, "task_id", int, where, line)
    return CodeProblem(
        task_id=f"mbpp/{task}",
        prompt=format_prompt(text, [str(t) for t in tests]),
        prefix="",
        # Imports the tests need (sanitized) or setup code (full) go before the asserts.
        test=(setup + "\n" if setup else "") + "\n".join(str(t) for t in tests),
        canonical=field(obj, "code", str, where, line),
    )


def load_mbpp(
    data: Path | None = None, sanitized: bool = False, limit: int | None = None
) -> list[CodeProblem]:
    """The test split of MBPP (full or sanitized) from a local release file or the hub."""
    if data is None:
        config = "sanitized" if sanitized else "full"
        rows = list(enumerate(load_hub(HUB_ID, config, "test"), 1))
        where: Path | str = f"hf:{HUB_ID}/{config}"
    else:
        name = "sanitized-mbpp.json" if sanitized else "mbpp.jsonl"
        path = data / name if data.is_dir() else data
        rows = list(iter_json_records(path))
        where = path
    problems = [
        _problem(obj, sanitized, where, line)
        for line, obj in rows
        if field(obj, "task_id", int, where, line) in TEST_IDS
    ]
    return problems[:limit] if limit is not None else problems


def _postprocess(problem: CodeProblem, text: str) -> str:
    return extract_code(text)


@register_benchmark
class MBPP(Benchmark):
    """MBPP test split (500 tasks), pass@k."""

    name = "mbpp"
    description = "MBPP test split (500 tasks), pass@k in the sandbox"
    sanitized = False

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Sample, execute and score; see `run_code_benchmark`."""
        problems = load_mbpp(options.data, self.sanitized, options.limit)
        return run_code_benchmark(self.name, problems, backend, out, options, _postprocess)


@register_benchmark
class MBPPSanitized(MBPP):
    """MBPP sanitized test split (257 tasks), pass@k."""

    name = "mbpp-sanitized"
    description = "MBPP sanitized test split (257 hand-verified tasks), pass@k in the sandbox"
    sanitized = True
