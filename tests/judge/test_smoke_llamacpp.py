"""The bundled model (SmolLM2-135M-Instruct via llama.cpp) as judge: checks the pipeline only.

Its verdicts are weak; what must hold is that every item ends scored-in-range or unscored
with a reason and the raw reply, and that a rerun makes no calls.
"""

import pytest

from tuneval.errors import BackendError
from tuneval.judge import (
    PAIRWISE_FILE,
    SINGLE_FILE,
    PairConfig,
    ScoreConfig,
    judge_pairs,
    judge_scores,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundled_judge():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from tuneval.models import create_backend

    try:
        return create_backend("llamacpp:default")
    except BackendError as exc:
        pytest.skip(f"the llama.cpp backend is not available: {exc}")


def test_bundled_model_scores_and_compares(run_factory, bundled_judge):
    run = run_factory(
        {
            "base": ["Paris is the capital of France.", "2 + 2 = 5"],
            "finetuned": ["The capital of France is Paris.", "2 + 2 = 4"],
        }
    )
    single = ScoreConfig(max_tokens=48, max_attempts=2)
    judgments = judge_scores(run, "finetuned", bundled_judge, single)
    assert len(judgments) == 2
    for j in judgments:
        assert j.raw is not None and j.judge == bundled_judge.identity()
        assert (j.score is not None and 1 <= j.score <= 10) or j.unscored_reason
    pairs = PairConfig(max_tokens=48, max_attempts=2)
    records = judge_pairs(run, "base", "finetuned", bundled_judge, pairs)
    assert len(records) == 4
    assert all(r.position is not None or r.unscored_reason for r in records)
    sizes = [run.record_file(n).stat().st_size for n in (SINGLE_FILE, PAIRWISE_FILE)]
    judge_scores(run, "finetuned", bundled_judge, single)
    judge_pairs(run, "base", "finetuned", bundled_judge, pairs)
    assert [run.record_file(n).stat().st_size for n in (SINGLE_FILE, PAIRWISE_FILE)] == sizes
