import json

from wf_helpers import write_config

from tuneval.workflow import full_evaluation, load_config


def test_contamination_step_flags_leaked_item(tmp_path, mocks):
    path = write_config(tmp_path)
    train = tmp_path / "train.jsonl"
    rows = [{"text": "unrelated words only here"}, {"text": "we saw Question 2: what is it"}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = load_config(
        path,
        environ={},
        overrides=[f"contamination.training_data=[{train}]", "contamination.ngram=3"],
    )
    result = full_evaluation(cfg, backends=mocks)
    status = {s.step: s for s in result.steps}
    assert status["contamination"].status == "ran"
    assert status["contamination"].detail == "1 of 8 items overlap the training data"
    res = result.results
    assert res.contamination["contaminated"] == 1
    flagged = res.contamination["flagged"]
    assert [f["id"] for f in flagged] == ["q2"] and flagged[0]["found_in"][0].endswith(":2")
    overlaps = {i.id: i.contamination for i in res.items}
    assert overlaps["q2"] > 0 and overlaps["q1"] is None
    html = (tmp_path / "runs" / "t" / "report.html").read_text()
    assert 'id="contamination"' in html and "question 2 what is" in html
    assert any("share 3-grams" in n for n in res.notes)
    again = full_evaluation(cfg, backends=mocks)
    assert {s.step: s.status for s in again.steps}["contamination"] == "skipped"
