from collections.abc import Callable
from pathlib import Path

import pytest
from judge_helpers import make_run

from tuneval.rundir import RunDir


@pytest.fixture
def run_factory(tmp_path: Path) -> Callable[..., RunDir]:
    counter = iter(range(1000))

    def factory(outputs: dict[str, list[str | None]], **kw: bool) -> RunDir:
        return make_run(tmp_path / f"run{next(counter)}", outputs, **kw)

    return factory
