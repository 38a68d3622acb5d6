"""Study creation: seeded blind placement, balanced assignment, sources and bad input."""

import json
from collections import Counter

import pytest
from human_helpers import BASE, TUNED, write_run

from tuneval.errors import DataError, UsageError
from tuneval.human import StudyStore, create_study, pairs_from_predictions, pairs_from_run


def _create(tmp_path, name, seed=7, annotators=("ann1", "ann2", "ann3", "ann4"), per_item=3):
    run = write_run(tmp_path / "run", 20)
    return create_study(
        tmp_path / name,
        pairs_from_run(run.path, BASE, TUNED),
        model_a=BASE,
        model_b=TUNED,
        annotators=list(annotators),
        per_item=per_item,
        seed=seed,
    )


def _layout(store):
    return (
        [i.model_dump() for i in store.items()],
        {k: v.model_dump() for k, v in store.placements().items()},
        store.assignments(),
    )


def test_same_seed_same_study_other_seed_differs(tmp_path):
    one, two = _create(tmp_path, "s1"), _create(tmp_path, "s2")
    assert _layout(one) == _layout(two)
    assert one.tokens() != two.tokens()  # secrets are fresh each time
    other = _create(tmp_path, "s3", seed=8)
    assert _layout(other)[1] != _layout(one)[1]


def test_placement_is_blind_and_consistent_with_outputs(tmp_path):
    store = _create(tmp_path, "s")
    placements = store.placements()
    at_a = Counter(p.model_at_a for p in placements.values())
    assert set(at_a) == {BASE, TUNED}  # both positions used (20 items, seeded)
    for item in store.items():
        p = placements[item.item_id]
        assert {p.model_at_a, p.model_at_b} == {BASE, TUNED}
        # The tuned model's output in the fixture is the bare number.
        tuned_text = item.response_a if p.model_at_a == TUNED else item.response_b
        assert not tuned_text.startswith("The answer")
        assert BASE not in item.item_id and item.example_id not in item.item_id


def test_each_item_gets_per_item_distinct_annotators_balanced(tmp_path):
    store = _create(tmp_path, "s", per_item=3)
    assignments = store.assignments()
    per_item = Counter(i for ids in assignments.values() for i in ids)
    assert set(per_item.values()) == {3}
    assert len(per_item) == 20
    loads = [len(ids) for ids in assignments.values()]
    assert max(loads) - min(loads) <= 1 and sum(loads) == 60
    for ids in assignments.values():
        assert len(ids) == len(set(ids))


def test_refuses_to_overwrite_and_bad_settings(tmp_path):
    _create(tmp_path, "s")
    with pytest.raises(UsageError, match="already holds a study"):
        _create(tmp_path, "s")
    with pytest.raises(UsageError, match="between 1 and"):
        _create(tmp_path, "x", per_item=5)
    with pytest.raises(UsageError, match="unique"):
        _create(tmp_path, "y", annotators=("a", "a"), per_item=1)
    with pytest.raises(UsageError, match="annotator name"):
        _create(tmp_path, "z", annotators=("a b",), per_item=1)
    with pytest.raises(DataError, match="no study here"):
        StudyStore(tmp_path / "nothing")


def test_run_with_unknown_model_or_failed_generation(tmp_path):
    run = write_run(tmp_path / "run", 3)
    with pytest.raises(DataError, match=r"no generations for model 'nope'.*zzbase"):
        pairs_from_run(run.path, "nope", TUNED)
    with run.generations_path.open("a", encoding="utf-8") as f:
        f.write(
            json.dumps({"example_id": "ex1", "model": TUNED, "output": None, "error": "timeout"})
            + "\n"
        )
    pairs = pairs_from_run(run.path, BASE, TUNED)
    assert [p.example_id for p in pairs.pairs] == ["ex0", "ex2"]
    assert pairs.skipped == ["ex1"]


def test_prediction_files_with_prompts_inline_or_from_eval_set(tmp_path):
    a, b, ev = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "eval.jsonl"
    a.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "prompt": f"P{i}", "prediction": f"A{i}"}) + "\n"
            for i in range(4)
        )
    )
    b.write_text(
        "".join(json.dumps({"id": f"q{i}", "prediction": f"B{i}"}) + "\n" for i in range(4))
    )
    pairs = pairs_from_predictions(a, b)
    first = pairs.pairs[0]
    assert (first.prompt, first.output_a, first.output_b) == ("P0", "A0", "B0")
    with pytest.raises(DataError, match=r"b.jsonl.*no prompt"):
        pairs_from_predictions(b, b)
    ev.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"E{i}"}) + "\n" for i in range(4)))
    pairs = pairs_from_predictions(b, a, examples=ev)
    assert pairs.pairs[3].prompt == "E3" and pairs.pairs[3].output_a == "B3"


def test_limit_keeps_a_seeded_sample(tmp_path):
    run = write_run(tmp_path / "run", 20)
    pairs = pairs_from_run(run.path, BASE, TUNED)
    kwargs = dict(model_a=BASE, model_b=TUNED, annotators=["x", "y"], per_item=1, limit=5)
    one = create_study(tmp_path / "one", pairs, seed=3, **kwargs)
    two = create_study(tmp_path / "two", pairs, seed=3, **kwargs)
    assert [i.example_id for i in one.items()] == [i.example_id for i in two.items()]
    assert len(one.items()) == 5 and one.info().items == 5
