from collections.abc import Iterator
from pathlib import Path

import pytest
from human_helpers import Server, make_study

from tuneval.human import StudyStore


@pytest.fixture
def study(tmp_path: Path) -> StudyStore:
    return make_study(tmp_path)


@pytest.fixture
def server(study: StudyStore) -> Iterator[Server]:
    with Server(study) as s:
        yield s
