"""Unblinding and results: win rates, rubric, agreement against reference packages, judge."""

import json
import random

import krippendorff
import numpy as np
import pytest
from human_helpers import BASE, TUNED, make_study
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from tuneval.errors import DataError
from tuneval.human import VoteInput, study_results
from tuneval.human.results import load_unblinded

CRITERIA = ("accuracy", "relevance", "format", "fluency")


def put(store, annotator, item_id, winner_model, tuned_score, base_score):
    """A vote that prefers `winner_model` (or tie), scoring by model, placed by position."""
    p = store.placements()[item_id]
    tuned_at_a = p.model_at_a == TUNED
    scores = {
        "tuned": dict.fromkeys(CRITERIA, tuned_score),
        "base": dict.fromkeys(CRITERIA, base_score),
    }
    pref = "A" if (winner_model == TUNED) == tuned_at_a else "B"
    pref = "tie" if winner_model == "tie" else pref
    body = {
        "a": scores["tuned"] if tuned_at_a else scores["base"],
        "b": scores["base"] if tuned_at_a else scores["tuned"],
        "preference": pref,
    }
    store.put_vote(annotator, item_id, VoteInput.model_validate(body))


def test_unblinding_reports_the_right_model(tmp_path):
    store = make_study(tmp_path, n=8, per_item=3)
    for annotator, ids in store.assignments().items():
        for item_id in ids:
            put(store, annotator, item_id, TUNED, 5, 2)
    r = study_results(store.path, resamples=500)
    rates = {w.model: w for w in r.win_rates}
    assert rates[TUNED].win_rate.value == 1.0 and rates[TUNED].wins == 24
    assert rates[BASE].win_rate.value == 0.0 and rates[BASE].losses == 24
    for c in r.criteria:
        assert (c.mean_a.value, c.mean_b.value, c.difference.value) == (2.0, 5.0, 3.0)
        # Sign flips over 8 items, every one +3: exactly 2/2^8 = 0.0078 (500 random flips).
        assert c.p_value == pytest.approx(2 / 2**8, abs=0.01) and c.p_value < 0.05
        assert c.difference.ci_low > 0.0
    assert r.items_voted == 8 and r.votes == 24
    assert r.disagreements == []


def test_win_rate_counts_ties_half_and_averages_per_item(tmp_path):
    store = make_study(tmp_path, n=4, annotators=("x", "y"), per_item=2)
    items = [i.item_id for i in store.items()]
    plan = {
        items[0]: (TUNED, TUNED),
        items[1]: (TUNED, "tie"),
        items[2]: (BASE, BASE),
        items[3]: (TUNED, BASE),
    }
    for item_id, (vx, vy) in plan.items():
        put(store, "x", item_id, vx, 4, 3)
        put(store, "y", item_id, vy, 4, 3)
    r = study_results(store.path, resamples=1000, seed=1)
    tuned = next(w for w in r.win_rates if w.model == TUNED)
    assert tuned.win_rate.value == pytest.approx((1 + 0.75 + 0 + 0.5) / 4)
    assert (tuned.wins, tuned.ties, tuned.losses) == (4, 1, 3)
    assert tuned.win_rate.ci_low <= tuned.win_rate.value <= tuned.win_rate.ci_high
    flagged = {d.item_id for d in r.disagreements}
    assert flagged == {items[3]}  # opposite preferences
    assert "opposite preferences" in r.disagreements[0].reasons[0]


def test_agreement_equals_reference_packages_on_the_same_votes(tmp_path):
    annotators = ("r1", "r2", "r3", "r4")
    store = make_study(tmp_path, n=30, annotators=annotators, per_item=3, seed=11)
    rng = random.Random(5)
    for annotator, ids in store.assignments().items():
        for item_id in ids:
            choice = rng.choice([TUNED, TUNED, BASE, "tie"])
            put(store, annotator, item_id, choice, rng.randint(2, 5), rng.randint(1, 4))
    r = study_results(store.path, resamples=200)
    votes = load_unblinded(store)
    by_item: dict[str, list] = {}
    for v in votes:
        by_item.setdefault(v.item_id, []).append(v)
    table = np.array(
        [[sum(v.outcome == o for v in g) for o in ("a", "b", "tie")] for g in by_item.values()]
    )
    assert r.agreement.fleiss_items == 30 and r.agreement.fleiss_raters == 3
    assert r.agreement.fleiss_kappa == pytest.approx(sm_fleiss(table, method="fleiss"), abs=1e-12)
    for pair in r.agreement.pairwise:
        x = {v.item_id: v.outcome for v in votes if v.annotator == pair.annotator_1}
        y = {v.item_id: v.outcome for v in votes if v.annotator == pair.annotator_2}
        common = sorted(set(x) & set(y))
        assert pair.n == len(common)
        expected = cohen_kappa_score([x[k] for k in common], [y[k] for k in common])
        assert pair.kappa == pytest.approx(expected, abs=1e-12)
    items = list(by_item)
    for c in CRITERIA:
        data = np.full((4, 60), np.nan)
        for v in votes:
            j = items.index(v.item_id)
            data[annotators.index(v.annotator), 2 * j] = v.scores_a.value(c)
            data[annotators.index(v.annotator), 2 * j + 1] = v.scores_b.value(c)
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
        assert r.agreement.criteria_alpha[c] == pytest.approx(expected, abs=1e-10)
    pref = np.full((4, 30), np.nan)
    for v in votes:
        pref[annotators.index(v.annotator), items.index(v.item_id)] = "abt".index(v.outcome[0])
    expected = krippendorff.alpha(reliability_data=pref, level_of_measurement="nominal")
    assert r.agreement.preference_alpha == pytest.approx(expected, abs=1e-10)


def test_judge_vs_human_agreement(tmp_path):
    store = make_study(tmp_path, n=6, annotators=("x", "y"), per_item=2)
    items = store.items()
    human = [TUNED, TUNED, BASE, "tie", TUNED, BASE]
    for item, winner in zip(items, human, strict=True):
        put(store, "x", item.item_id, winner, 4, 3)
        put(store, "y", item.item_id, winner, 4, 3)
    # Judge records in tuneval.judge's pairwise format, both orders; model_a is the tuned model
    # there, so verdicts must be mapped to the study's --a (base) / --b (tuned).
    judge_says = ["b_tuned", "b_tuned", "base", "base", "inconsistent", "base"]
    path = tmp_path / "judge_pairwise.jsonl"
    with path.open("w") as f:
        for item, verdict in zip(items, judge_says, strict=True):
            for order in ("ab", "ba"):
                if verdict == "inconsistent":
                    position = "A"  # picks whatever is first: tuned in ab, base in ba
                else:
                    winner_is_tuned = verdict == "b_tuned"
                    first_is_tuned = order == "ab"
                    position = "A" if winner_is_tuned == first_is_tuned else "B"
                f.write(
                    json.dumps(
                        {
                            "example_id": item.example_id,
                            "model_a": TUNED,
                            "model_b": BASE,
                            "order": order,
                            "position": position,
                        }
                    )
                    + "\n"
                )
        f.write(
            json.dumps(
                {
                    "example_id": "other",
                    "model_a": TUNED,
                    "model_b": BASE,
                    "order": "ab",
                    "position": None,
                }
            )
            + "\n"
        )
    r = study_results(store.path, judge_file=path, resamples=200)
    human_labels = ["b", "b", "a", "tie", "b", "a"]
    judge_labels = ["b", "b", "a", "a", "tie", "a"]
    assert r.judge is not None and r.judge.n == 6
    assert r.judge.agreement == pytest.approx(4 / 6)
    assert r.judge.kappa == pytest.approx(cohen_kappa_score(human_labels, judge_labels))
    simple = tmp_path / "simple.jsonl"
    simple.write_text(
        "".join(
            json.dumps({"example_id": i.example_id, "winner": w}) + "\n"
            for i, w in zip(items, [TUNED, TUNED, BASE, "tie", TUNED, BASE], strict=True)
        )
    )
    assert study_results(store.path, judge_file=simple, resamples=100).judge.agreement == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"example_id": "x", "winner": "somebody"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1.*somebody"):
        study_results(store.path, judge_file=bad)
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(
        json.dumps(
            {"example_id": "x", "model_a": "m1", "model_b": "m2", "order": "ab", "position": "A"}
        )
        + "\n"
    )
    with pytest.raises(DataError, match="the judge compared m1 vs m2"):
        study_results(store.path, judge_file=wrong)


def test_no_votes_is_a_clear_error(study):
    with pytest.raises(DataError, match="no votes yet"):
        study_results(study.path)
