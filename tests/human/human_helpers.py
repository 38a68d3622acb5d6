import socket
import threading
import time
from pathlib import Path

import pytest

from tuneval.human import StudyStore, VoteInput, create_study, pairs_from_run
from tuneval.records import Example, Generation
from tuneval.rundir import RunDir

# Distinctive model names: a test fails if either ever shows up in an annotator-facing response.
BASE = "zzbase-model-7"
TUNED = "zztuned-model-9"
XSS = (
    "<script>window.__pwned = 1; alert('script')</script>"
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">"
    "[click](javascript:alert('md'))"
)


def write_run(path: Path, n: int, payload_every: int = 0) -> RunDir:
    run = RunDir(path)
    run.write_examples(
        Example(id=f"ex{i}", prompt=f"Question {i}: what is {i} + {i}?") for i in range(n)
    )
    run.path.mkdir(parents=True, exist_ok=True)
    with run.generations_path.open("w", encoding="utf-8") as f:
        for i in range(n):
            tuned = f"{2 * i}"
            if payload_every and i % payload_every == 0:
                tuned = f"{2 * i} {XSS}"
            for model, output in ((BASE, f"The answer is {2 * i + (i % 3 == 0)}."), (TUNED, tuned)):
                gen = Generation(example_id=f"ex{i}", model=model, output=output)
                f.write(gen.model_dump_json() + "\n")
    return run


def make_study(
    tmp: Path, n: int = 6, annotators=("ann1", "ann2", "ann3"), per_item=2, seed=7, payload_every=0
) -> StudyStore:
    run = write_run(tmp / "run", n, payload_every)
    return create_study(
        tmp / "study",
        pairs_from_run(run.path, BASE, TUNED),
        model_a=BASE,
        model_b=TUNED,
        annotators=list(annotators),
        per_item=per_item,
        seed=seed,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, study: StudyStore) -> None:
        import uvicorn

        from tuneval.human.app import create_app

        self.study = study
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(study.path),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("annotation app did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def link(self, annotator: str) -> str:
        return f"{self.url}/annotate#token={self.study.tokens()[annotator]}"


def vote(pref: str = "A", a: int = 4, b: int = 3, comment: str = "") -> VoteInput:
    scores = {c: a for c in ("accuracy", "relevance", "format", "fluency")}
    other = {c: b for c in ("accuracy", "relevance", "format", "fluency")}
    data = {"a": scores, "b": other, "preference": pref, "comment": comment}
    return VoteInput.model_validate(data)


def vote_json(pref: str = "A", a: int = 4, b: int = 3, comment: str = "") -> dict:
    return vote(pref, a, b, comment).model_dump()


def run(argv, capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from tuneval.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def create_cli(tmp_path, capsys, *extra):
    """`tuneval human create` on a 6-example run: 3 annotators, 2 per item (12 rows)."""
    run_dir = write_run(tmp_path / "run", 6, payload_every=2)
    argv = ["human", "create", "--run", str(run_dir.path), "--a", BASE, "--b", TUNED]
    argv += ["--annotators", "ann1,ann2,ann3", "--per-item", "2", "--seed", "7", *extra]
    code, out, err = run(argv, capsys)
    assert code in (0, None), err
    return run_dir.path / "human-study", out


def fill(row, i):
    """What an annotator types into the spreadsheet."""
    for side, base in (("a", 2), ("b", 4)):
        for c in ("accuracy", "relevance", "format", "fluency"):
            row[f"{side}_{c}"] = str(base + i % 2)
    row["preference"] = ("A", "B", "tie")[i % 3]
    row["comment"] = '=HYPERLINK("x")' if i == 0 else ""
