"""HumanEval (Chen et al. 2021): 164 Python functions, pass@k in the sandbox.

Local data: the release file ``HumanEval.jsonl.gz`` (or unzipped ``.jsonl``) with keys
task_id, prompt, entry_point, canonical_solution, test. Hub: ``openai_humaneval`` (test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import Benchmark, BenchOptions, register_benchmark
from tuneval.benchmarks.code import CodeProblem, extract_code, run_code_benchmark
from tuneval.models.base import ModelBackend
from tuneval.rundir import RunDir

HUB_ID = "openai_humaneval"

INSTRUCTION = (
    "Complete the following Python function. Answer with the complete function in a "
    "```python code block.\n\n"
)


def _problem(obj: dict[str, Any], where: Path | str, line: int) -> CodeProblem:
    prompt = field(obj, "prompt", str, where, line)
    entry = field(obj, "entry_point", str, where, line)
    return CodeProblem(
        task_id=field(obj, "task_id", str, where, line),
        prompt=INSTRUCTION + prompt,
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


def completion_body(problem: CodeProblem, text: str) -> str:
    """The code placed after the prompt.

    A chat model usually repeats the whole function; that is put after the prompt (whose
    function then has only its docstring, which is valid Python) and so redefines it. A
    bare body continuation is used as is.
    """
    code = extract_code(text)
    if problem.entry_point and f"def {problem.entry_point}(" in code:
        return "\n    pass\n\n" + code
    return code


@register_benchmark
class HumanEval(Benchmark):
    """HumanEval pass@k."""

    name = "humaneval"
    description = "HumanEval: 164 Python functions, pass@k (1/10/100) in the sandbox"

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Sample, execute and score; see `run_code_benchmark`."""
        problems = load_humaneval(options.data, options.limit)
        return run_code_benchmark(self.name, problems, backend, out, options, completion_body)
