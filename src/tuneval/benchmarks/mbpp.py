"""MBPP (Austin et al. 2021): short Python tasks checked by three asserts.

Two variants: ``mbpp`` (the full release's test split, task ids 11-510) and
``mbpp-sanitized`` (the hand-verified subset's test split). Two modes (``--mode``):
``completion`` is the paper's 3-shot prompt (tasks 2-4 as examples, ``[BEGIN]``/``[DONE]``)
for base models; ``chat`` is EvalPlus' instruction around the task and its first assert,
and the answer's fenced block that defines the tested function is run. Local data: ``mbpp.jsonl``
(keys text, code, task_id, test_setup_code, test_list) and ``sanitized-mbpp.json`` (keys
prompt, code, task_id, test_imports, test_list). Hub: ``mbpp`` (configs full/sanitized).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import register_benchmark
from tuneval.benchmarks.code import (
    EVALPLUS_INSTRUCTION,
    CodeBenchmark,
    CodeMode,
    CodeProblem,
    CodeProtocol,
)
from tuneval.benchmarks.code_extract import extract_code
from tuneval.benchmarks.options import CodeOptions
from tuneval.errors import DataError

HUB_ID = "mbpp"
TEST_IDS = range(11, 511)
"""Task ids of the test split (the release's split: 1-10 prompt, 11-510 test, rest train/val)."""
SHOT_IDS = (2, 3, 4)
"""The paper's few-shot examples (from the prompt split)."""
STOP = ("[DONE]",)

_CALLED = re.compile(r"^\s*assert\W*(?:not\W+)?(?:math\.isclose\(|set\()?\s*([A-Za-z_]\w*)\s*\(")


def format_prompt(text: str, tests: list[str] | tuple[str, ...]) -> str:
    """One task in the MBPP paper's prompt: task, the tests it must pass, ``[BEGIN]``."""
    return (
        f"You are an expert Python programmer, and here is your task: {text} "
        "Your code should pass these tests:\n\n" + "\n".join(tests) + "\n[BEGIN]\n"
    )


def fewshot_prompt(problem: CodeProblem, shots: list[CodeProblem]) -> str:
    """The paper's 3-shot prompt: each example's code closed by ``[DONE]``, then the task."""
    examples = [f"{format_prompt(s.prompt, s.test_list)}{s.canonical}\n[DONE]" for s in shots]
    return "\n\n".join([*examples, format_prompt(problem.prompt, problem.test_list)])


def chat_prompt(problem: CodeProblem) -> str:
    """EvalPlus' MBPP chat prompt: the task and its first assert as a docstring, fenced."""
    task = f'"""\n{problem.prompt}\n{problem.test_list[0]}\n"""\n'
    return f"{EVALPLUS_INSTRUCTION}\n```python\n{task.strip()}\n```"


def protocol_for(mode: CodeMode, shots: list[CodeProblem]) -> CodeProtocol:
    """How MBPP is asked and read in ``mode``."""
    if mode == "completion":
        return CodeProtocol(
            mode=mode,
            style="mbpp-3shot",
            render=lambda p: fewshot_prompt(p, shots),
            postprocess=lambda p, text: text,
            stop=STOP,
            stop_name="done",
        )
    return CodeProtocol(
        mode=mode,
        style="evalplus",
        render=chat_prompt,
        postprocess=lambda p, text: extract_code(text, p.entry_point),
    )


def _problem(obj: dict[str, Any], sanitized: bool, where: Path | str, line: int) -> CodeProblem:
    text = field(obj, "prompt" if sanitized else "text", str, where, line)
    tests = field(obj, "test_list", list, where, line)
    if sanitized:
        setup = "\n".join(field(obj, "test_imports", list, where, line))
    else:
        setup = str(obj.get("test_setup_code") or "")
    task = field(obj, "task_id", int, where, line)
    called = _CALLED.match(str(tests[0])) if tests else None
    if called is None:
        raise DataError(
            "first test is not 'assert f(...)', so the tested function is unknown",
            path=where,
            line=line,
            field="test_list",
        )
    return CodeProblem(
        id=f"mbpp/{task}",
        prompt=text,
        test_list=tuple(str(t) for t in tests),
        entry_point=called.group(1),
        prefix="",
        # Imports the tests need (sanitized) or setup code (full) go before the asserts.
        test=(setup + "\n" if setup else "") + "\n".join(str(t) for t in tests),
        canonical=field(obj, "code", str, where, line),
    )


def load_mbpp(
    data: Path | None = None,
    sanitized: bool = False,
    limit: int | None = None,
    split: str = "test",
) -> list[CodeProblem]:
    """A split of MBPP (full or sanitized) from a local release file or the hub.

    ``split`` is ``test`` (task ids 11-510) or ``prompt`` (the paper's shots, tasks 2-4).
    """
    ids = TEST_IDS if split == "test" else SHOT_IDS
    if data is None:
        config = "sanitized" if sanitized else "full"
        rows = list(enumerate(load_hub(HUB_ID, config, split), 1))
        where: Path | str = f"hf:{HUB_ID}/{config}"
    else:
        name = "sanitized-mbpp.json" if sanitized else "mbpp.jsonl"
        path = data / name if data.is_dir() else data
        rows = list(iter_json_records(path))
        where = path
    problems = [
        _problem(obj, sanitized, where, line)
        for line, obj in rows
        if field(obj, "task_id", int, where, line) in ids
    ]
    return problems[:limit] if limit is not None else problems


@register_benchmark
class MBPP(CodeBenchmark):
    """MBPP test split (500 tasks), pass@k."""

    name = "mbpp"
    description = "MBPP test split (500 tasks), pass@k in the sandbox"
    sanitized = False

    def prepare(
        self, mode: CodeMode, options: CodeOptions
    ) -> tuple[CodeProtocol, list[CodeProblem]]:
        """The mode's protocol (completion: the paper's three shots) and the problems."""
        shots = (
            load_mbpp(options.data, self.sanitized, split="prompt") if mode == "completion" else []
        )
        if mode == "completion" and len(shots) != len(SHOT_IDS):
            raise DataError(
                f"the data lacks the few-shot tasks {SHOT_IDS} of completion mode; use --mode chat"
            )
        problems = load_mbpp(options.data, self.sanitized, options.limit)
        return protocol_for(mode, shots), problems


@register_benchmark
class MBPPSanitized(MBPP):
    """MBPP sanitized test split (257 tasks), pass@k."""

    name = "mbpp-sanitized"
    description = "MBPP sanitized test split (257 hand-verified tasks), pass@k in the sandbox"
    sanitized = True
