"""Helpers: a small eval set, a config file, and scripted mock models and judge."""

import json
from pathlib import Path

from tuneval.models.base import Request

BASE_RIGHT = {0, 1, 4}
TUNED_RIGHT = {0, 1, 2, 3, 4, 5, 6}


def write_evalset(path: Path, n: int = 8) -> Path:
    rows = [
        {
            "id": f"q{i}",
            "prompt": f"Question {i}: what is the answer?",
            "reference": f"ans{i}",
            "category": "qa" if i < n // 2 else "cls",
            "difficulty": ["easy", "medium", "hard"][i % 3],
            "adversarial": i == n - 1,
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_config(folder: Path, text: str | None = None, **extra: str) -> Path:
    write_evalset(folder / "eval.jsonl")
    body = text or (
        "name: t\n"
        "eval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models:\n"
        "  base: {spec: 'mock:echo'}\n"
        "  finetuned: {spec: 'mock:echo', system_prompt: 'Be brief.'}\n"
        "judge: {spec: 'mock:echo'}\n"
        "comparison: {resamples: 200, trials: 500}\n"
        # Exact call counts: identical requests in flight together would race in the cache.
        "calls: {cache: false}\n"
    )
    path = folder / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def item_number(request: Request) -> int:
    last = [m for m in request.messages if m.role == "user"][-1].content
    return int(last.split("Question ", 1)[1].split(":", 1)[0])


def model_responder(right: set[int]):
    def respond(request: Request) -> str:
        i = item_number(request)
        return f"ans{i}" if i in right else "wrong answer"

    return respond


def judge_responder(request: Request) -> str:
    user = request.messages[1].content
    if "[Answer A]" in user:
        a = user.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]", 1)[0]
        b = user.split("[Answer B]\n", 1)[1].split("\n\nCompare the answers", 1)[0]
        ra, rb = a.startswith("ans"), b.startswith("ans")
        winner = "tie" if ra == rb else ("A" if ra else "B")
        return json.dumps({"reasoning": "r", "winner": winner})
    answer = user.split("[Answer]\n", 1)[1].split("\n\nFirst think", 1)[0]
    return json.dumps({"reasoning": "r", "score": 9 if answer.startswith("ans") else 2})
