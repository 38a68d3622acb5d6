import json
from pathlib import Path

from tuneval.models.base import Request
from tuneval.records import Example, Generation
from tuneval.rundir import JsonlAppender, RunDir


def make_run(
    path: Path,
    outputs: dict[str, list[str | None]],
    *,
    references: bool = True,
) -> RunDir:
    """A run directory with one example per output position and the given model outputs."""
    run = RunDir(path)
    n = len(next(iter(outputs.values())))
    run.write_examples(
        Example(
            id=f"q{i}",
            prompt=f"Question number {i}?",
            references=(f"reference {i}",) if references else (),
        )
        for i in range(n)
    )
    with JsonlAppender(run.generations_path) as app:
        for model, texts in outputs.items():
            for i, text in enumerate(texts):
                app.write(
                    Generation(
                        example_id=f"q{i}",
                        model=model,
                        output=text,
                        error=None if text is not None else "boom",
                    )
                )
    return run


def answers(request: Request) -> tuple[str, str]:
    """The two answers shown in a pairwise prompt (position A, position B)."""
    user = request.messages[1].content
    a = user.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]", 1)[0]
    b = user.split("[Answer B]\n", 1)[1].split("\n\nCompare the answers", 1)[0]
    return a, b


def single_answer(request: Request) -> str:
    user = request.messages[1].content
    return user.split("[Answer]\n", 1)[1].split("\n\nFirst think", 1)[0]


def reply(**fields: object) -> str:
    return json.dumps({"reasoning": "because", **fields})
