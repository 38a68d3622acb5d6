import json

import numpy as np
import pytest
from judge_helpers import answers, reply, single_answer

from tuneval.errors import DataError
from tuneval.judge import (
    PairConfig,
    cohen_kappa,
    compare_with_panel,
    human_majority,
    load_votes,
    panel_majority,
    score_with_panel,
)
from tuneval.judge.agreement import majority
from tuneval.judge.summary import Bootstrap
from tuneval.models.mock import MockBackend

BOOT = Bootstrap(resamples=200)


@pytest.mark.parametrize("seed", range(6))
def test_kappa_equals_sklearn(seed):
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    labels = ["a", "b", "tie"]
    x = list(rng.choice(labels, size=n, p=[0.5, 0.3, 0.2]))
    y = [v if rng.random() < 0.6 else str(rng.choice(labels[:2])) for v in x]
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y), abs=1e-12)


def test_kappa_edge_cases():
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["b", "b", "a", "a"]) == -1.0
    assert np.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def test_majority_rules():
    assert majority(["a", "a", "tie"]) == "a"
    assert majority(["a", "b"]) == "tie"
    assert majority([None, "b"]) == "b"
    assert majority([None]) is None
    assert panel_majority({"j1": {"q0": "a", "q1": "b"}, "j2": {"q0": "a", "q1": None}}) == {
        "q0": "a",
        "q1": "b",
    }


def test_votes_file(tmp_path):
    path = tmp_path / "votes.jsonl"
    rows = [
        {"example_id": "q0", "preference": "b", "annotator": "ann1"},
        {"example_id": "q0", "preference": "b", "annotator": "ann2"},
        {"example_id": "q0", "preference": "a", "annotator": "ann3"},
        {"example_id": "q1", "preference": "A"},
        {"example_id": "q1", "preference": "tie"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    votes = load_votes(path)
    assert human_majority(votes) == {"q0": "b", "q1": "tie"}


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "votes.jsonl:2: malformed JSON"),
        ('{"preference": "a"}', "votes.jsonl:2: missing"),
        ('{"example_id": "q1", "preference": "left"}', "votes.jsonl:2: preference 'left'"),
    ],
)
def test_bad_votes_name_file_and_line(tmp_path, line, needle):
    path = tmp_path / "votes.jsonl"
    path.write_text('{"example_id": "q0", "preference": "a"}\n' + line + "\n")
    with pytest.raises(DataError, match=needle) as exc:
        load_votes(path)
    assert exc.value.line == 2


def good_judge(request):
    a, b = answers(request)
    if ("good" in a) == ("good" in b):
        return reply(winner="tie")
    return reply(winner="A" if "good" in a else "B")


def test_panel_and_human_agreement(tmp_path, run_factory):
    run = run_factory({"base": ["good", "bad", "bad", "x"], "ft": ["bad", "good", "good", "y"]})
    good = MockBackend("mock:good", responder=good_judge)
    always_a = MockBackend("mock:always-a", responder=lambda r: reply(winner="A"))
    also_good = MockBackend("mock:good2", responder=good_judge)
    votes = tmp_path / "votes.jsonl"
    human = {"q0": "a", "q1": "b", "q2": "b", "q3": "tie"}
    votes.write_text(
        "".join(json.dumps({"example_id": k, "preference": v}) + "\n" for k, v in human.items())
    )
    report = compare_with_panel(
        run, "base", "ft", [good, always_a, also_good], PairConfig(), BOOT, human_votes=votes
    )
    by_judge = {s.judge: s for s in report.judges}
    assert by_judge["mock:good"].position_consistency == 1.0
    assert by_judge["mock:always-a"].position_consistency == 0.0
    assert report.panel is not None
    assert (report.panel.wins, report.panel.ties, report.panel.losses) == (2, 1, 1)
    pairs = {(a.rater_1, a.rater_2): a for a in report.agreement}
    assert pairs[("mock:good", "mock:good2")].kappa == 1.0
    assert pairs[("mock:good", "human majority")].agreement == 1.0
    vs_always = pairs[("mock:always-a", "human majority")]
    assert vs_always.n == 4 and vs_always.agreement == 0.25  # always-A ties everything
    assert pairs[(report.panel.judge, "human majority")].kappa == 1.0


def test_score_panel_spearman_and_mean(run_factory):
    run = run_factory({"ft": ["a" * 10, "a" * 30, "a" * 50, "a" * 70]})

    def by_length(request):
        return reply(score=len(single_answer(request)) // 10)

    def reversed_length(request):
        return reply(score=10 - len(single_answer(request)) // 10)

    j1 = MockBackend("mock:len", responder=by_length)
    j2 = MockBackend("mock:rev", responder=reversed_length)
    report = score_with_panel(run, "ft", [j1, j2], boot=BOOT)
    assert [s.mean.value for s in report.judges if s.mean] == [4.0, 6.0]
    assert report.agreement[0].spearman == pytest.approx(-1.0)
    assert report.panel_mean is not None and report.panel_mean.value == 5.0
