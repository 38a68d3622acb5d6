"""The workflow's human step: a blind study from the run, its export, its votes in the report."""

import pytest
from wf_helpers import write_config

from tuneval.errors import ConfigError
from tuneval.human import RubricScores, StudyStore, VoteInput
from tuneval.workflow import full_evaluation, load_config


def _config(tmp_path, *overrides: str):
    path = write_config(tmp_path)
    return load_config(path, environ={}, overrides=["human.export=true", *overrides])


def test_human_step_creates_blind_study_and_export(tmp_path, mocks):
    cfg = _config(tmp_path, "human.annotators=[ann1,ann2]", "human.per_item=2", "human.seed=3")
    result = full_evaluation(cfg, backends=mocks)
    status = {s.step: s for s in result.steps}
    assert status["human"].status == "ran"
    study = tmp_path / "runs" / "t" / "human-study"
    assert "8 items for 2 annotators" in status["human"].detail
    store = StudyStore(study)
    info = store.info()
    assert (info.model_a, info.model_b, info.items, info.per_item) == ("base", "finetuned", 8, 2)
    assert set(store.assignments()) == {"ann1", "ann2"}
    # Blind: the spreadsheet export never names the models.
    exported = (study / "annotations.jsonl").read_text()
    assert len(exported.splitlines()) == 16  # 8 items x 2 annotators
    assert "finetuned" not in exported and "mock:" not in exported
    assert (study / "annotations.csv").exists()
    assert result.results.human_study == "human-study"
    assert any("no votes yet" in n for n in result.results.notes)


def test_votes_reach_the_report_and_forcing_keeps_the_study(tmp_path, mocks):
    cfg = _config(tmp_path, "human.annotators=[ann1]", "human.per_item=1")
    full_evaluation(cfg, backends=mocks)
    study = tmp_path / "runs" / "t" / "human-study"
    store = StudyStore(study)
    placements = store.placements()
    good, bad = (
        RubricScores(accuracy=5, relevance=5, format=5, fluency=5),
        RubricScores(accuracy=1, relevance=1, format=1, fluency=1),
    )
    for item in store.items():
        tuned_at_a = placements[item.item_id].model_at_a == "finetuned"
        vote = VoteInput(
            a=good if tuned_at_a else bad,
            b=bad if tuned_at_a else good,
            preference="A" if tuned_at_a else "B",
        )
        store.put_vote("ann1", item.item_id, vote)
    again = full_evaluation(cfg, backends=mocks, force=["human"])
    status = {s.step: s for s in again.steps}
    assert status["human"].status == "skipped" and "may hold votes" in status["human"].detail
    assert len(StudyStore(study).votes()) == 8  # nothing lost
    notes = " ".join(again.results.notes)
    assert "finetuned win rate 1.000" in notes and "8 votes on 8 of 8 items" in notes
    md = (tmp_path / "runs" / "t" / "report.md").read_text()
    assert "Human study" in md


def test_per_item_above_annotators_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="per_item"):
        _config(tmp_path, "human.annotators=[ann1]", "human.per_item=2")


def test_sampled_study(tmp_path, mocks):
    cfg = _config(tmp_path, "human.items=3")
    full_evaluation(cfg, backends=mocks)
    store = StudyStore(tmp_path / "runs" / "t" / "human-study")
    assert store.info().items == 3 and store.info().per_item == 3
