"""Shared fixtures of the workflow tests."""

import pytest
from wf_helpers import BASE_RIGHT, TUNED_RIGHT, judge_responder, model_responder

from tuneval.models.mock import MockBackend


@pytest.fixture
def mocks() -> dict[str, MockBackend]:
    return {
        "base": MockBackend("mock:base", responder=model_responder(BASE_RIGHT)),
        "finetuned": MockBackend("mock:tuned", responder=model_responder(TUNED_RIGHT)),
        "judge": MockBackend("mock:judge", responder=judge_responder),
    }


@pytest.fixture(autouse=True)
def _private_call_cache(tmp_path, monkeypatch):
    """Each test gets its own call cache, so call counts never depend on earlier runs."""
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "call-cache"))
