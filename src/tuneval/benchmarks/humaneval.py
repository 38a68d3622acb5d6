"""HumanEval (Chen et al. 2021): 164 Python functions, pass@k in the sandbox.

Two modes (``--mode``): ``completion`` sends the original prompt for the model to continue
and cuts the answer at the Codex stop sequences (base models, as in the paper and human-eval);
``chat`` sends EvalPlus' instruction with the prompt in a fenced block and takes the block
that defines the entry point (instruct models). Programs get human-eval's 3 s.

Local data: the release file ``HumanEval.jsonl.gz`` (or unzipped ``.jsonl``) with keys
task_id, prompt, entry_point, canonical_solution, test. Hub: ``openai_humaneval`` (test).
"""

from __future__ import annotations

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
from tuneval.benchmarks.code_extract import CODEX_STOPS, extract_code
from tuneval.benchmarks.options import CodeOptions

HUB_ID = "openai_humaneval"


def _problem(obj: dict[str, Any], where: Path | str, line: int) -> CodeProblem:
    prompt = field(obj, "prompt", str, where, line)
    entry = field(obj, "entry_point", str, where, line)
    return CodeProblem(
        id=field(obj, "task_id", str, where, line),
        prompt=prompt,
        prefix=prompt,
        test=field(obj, "test", str, where, line) + f"\n\ncheck({entry})\n",
        canonical=field(obj, "canonical_solution", str, where, line),
        entry_point=entry,
    )


def load_humaneval(data: Path | None = None, limit: int | None = None) -> list[CodeProblem]:
    """HumanEval problems from a local release file, or from the hub when ``data`` is None."""
    if data is None:
        rows = [(i, r) for i, r in enumerate(load_hub(HUB_ID, None, "test"), 1)]
        where: Path | str = f"hf:{HUB_ID}"
    else:
        path = data / "HumanEval.jsonl.gz" if data.is_dir() else data
        rows = list(iter_json_records(path))
        where = path
    problems = [_problem(obj, where, line) for line, obj in rows]
    return problems[:limit] if limit is not None else problems


def chat_prompt(problem: CodeProblem) -> str:
    """EvalPlus' chat prompt: the instruction, then the original prompt in a fenced block."""
    return f"{EVALPLUS_INSTRUCTION}\n```python\n{problem.prompt.strip()}\n```"


def chat_body(problem: CodeProblem, text: str) -> str:
    """The code placed after the prompt, from a chat answer.

    A chat model usually repeats the whole function; that is put after the prompt (whose
    function then has only its docstring, which is valid Python) and so redefines it. A
    bare body continuation is used as is.
    """
    code = extract_code(text, problem.entry_point)
    if problem.entry_point and f"def {problem.entry_point}(" in code:
        return "\n    pass\n\n" + code
    return code


def protocol_for(mode: CodeMode) -> CodeProtocol:
    """How HumanEval is asked and read in ``mode``."""
    if mode == "completion":
        return CodeProtocol(
            mode=mode,
            style="human-eval",
            render=lambda p: p.prompt,
            # The continuation is the function body, appended to the prompt as it is.
            postprocess=lambda p, text: text,
            stop=CODEX_STOPS,
            stop_name="codex",
        )
    return CodeProtocol(mode=mode, style="evalplus", render=chat_prompt, postprocess=chat_body)


@register_benchmark
class HumanEval(CodeBenchmark):
    """HumanEval pass@k."""

    name = "humaneval"
    description = "HumanEval: 164 Python functions, pass@k (1/10/100) in the sandbox"

    def prepare(
        self, mode: CodeMode, options: CodeOptions
    ) -> tuple[CodeProtocol, list[CodeProblem]]:
        """The mode's protocol and the problems (the first ``limit``)."""
        return protocol_for(mode), load_humaneval(options.data, options.limit)
