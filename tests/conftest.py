import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def read_jsonl(name: str) -> list[dict]:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def golden_pairs() -> list[dict]:
    return read_jsonl("golden_pairs.jsonl")


@pytest.fixture(scope="session")
def golden_labels() -> list[dict]:
    return read_jsonl("golden_labels.jsonl")
