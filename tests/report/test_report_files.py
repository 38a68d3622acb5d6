import json
import re

from tuneval.report import Results, write_reports
from tuneval.report.html import render_html, word_diff
from tuneval.report.markdown import render_markdown
from tuneval.report.svg import Series, grouped_bars


def test_results_json_round_trips_with_schema_version(finished_run):
    data = json.loads((finished_run / "results.json").read_text())
    assert data["schema_version"] == 1
    results = Results.model_validate(data)
    assert results.n_examples == 12
    assert [c.category for c in results.per_category] == ["classification", "extraction", "summary"]
    summary = next(c for c in results.per_category if c.category == "summary")
    assert {c.metric for c in summary.metrics.comparisons} == {"rouge"}
    # every metric number carries its CI and signature
    for c in results.metrics.comparisons:
        assert c.base.ci_low <= c.base.value <= c.base.ci_high
        assert "boot:100" in c.base.signature
    assert "judge:mock:j" in results.judge_scores.signature


def test_markdown_has_verdict_and_escapes_pipes(finished_run):
    md = (finished_run / "report.md").read_text()
    assert md.startswith("# tuneval: rep")
    assert "| exact_match.exact_match |" in md
    assert "win rate" in md


def test_html_is_self_contained_and_escaped(finished_run):
    html = (finished_run / "report.html").read_text()
    assert html.count("<script>") == 1  # only our own sorting script
    assert "window.__pwned" in html and "&lt;script&gt;window.__pwned" in html
    assert not re.search(r"<(link|img|iframe)\b", html)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://127.0.0.1:9/x.png", ""
    )
    assert html.count("<svg") >= 5


def test_word_diff_marks_changes():
    assert word_diff("the cat sat", "the dog sat") == "the <del>cat</del> <ins>dog</ins> sat"
    assert word_diff("<b>", "<i>") == "<del>&lt;b&gt;</del> <ins>&lt;i&gt;</ins>"


def test_grouped_bars_escape_labels_and_whiskers():
    svg = grouped_bars(["<x>"], [Series("a&b", "#000", [0.5], [0.4], [0.6])], "t<")
    assert "&lt;x&gt;" in svg and "a&amp;b" in svg and 'class="whisker"' in svg


def test_rewrite_reports(finished_run, tmp_path):
    results = Results.model_validate_json((finished_run / "results.json").read_text())
    paths = write_reports(tmp_path, results)
    assert [p.name for p in paths] == ["results.json", "report.md", "report.html"]
    assert render_html(results) == (tmp_path / "report.html").read_text()
    assert render_markdown(results) == (tmp_path / "report.md").read_text()
