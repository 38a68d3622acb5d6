import json
import re

import pytest
from wf_helpers import write_config

from tuneval.errors import DataError
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


def _config_with_train(tmp_path, lines, *overrides):
    path = write_config(tmp_path)
    train = tmp_path / "train.jsonl"
    train.write_bytes(b"".join(x + b"\n" for x in lines))
    cfg = load_config(
        path, environ={}, overrides=[f"contamination.training_data=[{train}]", *overrides]
    )
    return cfg, train


def test_short_items_are_checked_whole_at_the_default_n(tmp_path, mocks):
    """The eval items (prompt and reference) have 7 tokens, fewer than 13: a copy is flagged."""
    lines = [b'{"text": "Seen: Question 5: what is the answer? ans5."}',
             b'{"text": "Question 6: what is the answer? (no reference)"}']  # fmt: skip
    cfg, _ = _config_with_train(tmp_path, lines)
    result = full_evaluation(cfg, backends=mocks)
    assert result.results.contamination["checked_whole"] == 8
    assert [f["id"] for f in result.results.contamination["flagged"]] == ["q5"]


def test_unreadable_training_record_fails_the_step_unless_skip_bad(tmp_path, mocks):
    lines = [b'{"text": "Question 2: what is the answer? ans2"}', b'{"text": "broken']
    cfg, train = _config_with_train(tmp_path, lines)
    with pytest.raises(DataError, match=rf"1 training record\(s\) could not be read, first: "
                       rf"{re.escape(str(train))}:2: .*skip_bad"):  # fmt: skip
        full_evaluation(cfg, backends=mocks)
    cfg, train = _config_with_train(tmp_path, lines, "contamination.skip_bad=true")
    result = full_evaluation(cfg, backends=mocks, force=["contamination"])
    detail = {s.step: s for s in result.steps}["contamination"].detail
    assert detail.startswith("1 of 8 items overlap the training data; 1 unreadable training")
    assert f"{train}:2: unreadable record" in detail
    summary = result.results.contamination
    assert summary["bad_records"] == 1 and summary["problems"][0].startswith(f"{train}:2:")
    run = tmp_path / "runs" / "t"
    results_json = json.loads((run / "results.json").read_text())
    assert results_json["contamination"]["problems"] == summary["problems"]
    markdown = (run / "report.md").read_text()
    assert "1 unreadable training records were skipped (skip_bad)" in markdown
    assert f"- {train}:2: unreadable record" in markdown
    html = (run / "report.html").read_text()
    assert "1 unreadable training records were skipped (skip_bad)" in html
    assert f"<li>{train}:2: unreadable record" in html
    assert any("unreadable training records" in n for n in result.results.notes)
