"""Generated corpora for the contamination tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

WORDS = [f"w{i}x" for i in range(400)]


def sentence(rng: random.Random, k: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(k))


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)
