"""``report.html``: one self-contained file (inline CSS, SVG and a little JS), opens offline.

All model and eval-set text goes through `html.escape`; nothing is loaded from the network.
"""

from __future__ import annotations

import difflib
from collections import Counter
from html import escape

from tuneval.report import svg
from tuneval.report.cost_section import cost_html
from tuneval.report.markdown import contamination_skipped, fmt, interval
from tuneval.report.schema import ItemView, Results
from tuneval.report.semantic_section import semantic_html

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left}
th.sortable{cursor:pointer;background:#f4f6f8}th.sortable:after{content:" \\2195";color:#999}
.better{color:#1e7d46;font-weight:600}.worse{color:#b3261e;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.note{color:#555}
pre{white-space:pre-wrap;margin:0;font-family:ui-monospace,monospace;font-size:.85rem}
ins{background:#d6f5dd;text-decoration:none}del{background:#fadada}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.classList.add('sortable');
    th.addEventListener('click', function(){
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      rows.sort(function(a, b){
        var x = a.cells[col].getAttribute('data-v') || a.cells[col].textContent;
        var y = b.cells[col].getAttribute('data-v') || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""


def _table(headers: list[str], rows: list[list[str]], css_id: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in r) + "</tr>" for r in rows)
    return (
        f'<table class="sortable" id="{css_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _td(value: object, sort: float | None = None) -> str:
    attr = f' data-v="{sort:.6g}"' if sort is not None else ""
    return f"<td{attr}>{escape(str(value))}</td>"


def word_diff(old: str, new: str) -> str:
    """HTML word diff of two texts: removed words in ``<del>``, added in ``<ins>``."""
    a, b = old.split(), new.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return " ".join(out)


def _verdicts(results: Results) -> str:
    rows = [
        [
            _td(v.measure),
            _td(f"{v.difference:+.3f}", v.difference),
            _td(f"[{v.ci_low:.3f}, {v.ci_high:.3f}]", v.ci_low),
            _td("—" if v.p_value is None else f"{v.p_value:.4f}", v.p_value),
            _td(v.mde_text, v.mde),
            _td(v.unit if v.units is None else f"{v.unit} ({v.units})"),
            f'<td class="{v.outcome.split()[0]}">{escape(v.text)}</td>',
        ]
        for v in results.verdicts
    ]
    header = ["measure", "fine-tuned − base", "CI", "p (Holm)", "MDE (80% power)", "unit"]
    return _table([*header, "verdict"], rows, "verdicts")


def _metric_charts(results: Results) -> str:
    charts: list[str] = []
    names: dict[str, list[tuple[str, object]]] = {}
    for cat in results.per_category:
        for c in cat.metrics.comparisons if cat.metrics else []:
            names.setdefault(f"{c.metric}.{c.name}", []).append((cat.category, c))
    for name, entries in names.items():
        cats = [e[0] for e in entries]
        comps = [e[1] for e in entries]
        series = [
            svg.Series(
                label,
                color,
                [getattr(c, side).value for c in comps],
                [getattr(c, side).ci_low for c in comps],
                [getattr(c, side).ci_high for c in comps],
            )
            for label, color, side in (
                ("base", svg.BASE_COLOR, "base"),
                ("fine-tuned", svg.TUNED_COLOR, "finetuned"),
            )
        ]
        charts.append(svg.grouped_bars(cats, series, f"{name} by category (95% CI)"))
    rows = []
    for cat in results.per_category:
        for c in cat.metrics.comparisons if cat.metrics else []:
            rows.append(
                [
                    _td(cat.category), _td(c.n, c.n), _td(f"{c.metric}.{c.name}"),
                    _td(f"{c.base.value:.3f}", c.base.value),
                    _td(f"{c.finetuned.value:.3f}", c.finetuned.value),
                    _td(f"{c.difference:+.3f} [{c.ci_low:.3f}, {c.ci_high:.3f}]", c.difference),
                    _td(f"{c.p_adjusted:.4f}", c.p_adjusted), _td(c.test),
                ]
            )  # fmt: skip
    table = _table(
        ["category", "n", "measure", "base", "fine-tuned", "Δ [CI]", "p (Holm)", "test"],
        rows,
        "metrics",
    )
    return (
        f'<div class="charts">{"".join(charts)}</div>{table}' if rows else "<p>No references.</p>"
    )


def _judge_section(results: Results) -> str:
    parts: list[str] = []
    rows = []
    for cat in results.per_category:
        if cat.pairwise is not None:
            p = cat.pairwise
            rows.append((cat.category, p.wins, p.ties, p.losses))
    if results.pairwise is not None:
        s = results.pairwise.summary
        rows.insert(0, ("all", s.wins, s.ties, s.losses))
        parts.append(svg.stacked_bars(rows, "Pairwise: fine-tuned vs base"))
    if results.judge_scores is not None:
        parts += _score_charts(results.items, results.judge_scores.base.scale)
    if not parts:
        return "<p>No judge configured.</p>"
    return f'<div class="charts">{"".join(parts)}</div>' + _diagnostics(results)


def _score_charts(items: list[ItemView], scale: tuple[int, int]) -> list[str]:
    bins = list(range(scale[0], scale[1] + 1))
    base = Counter(i.base_score for i in items if i.base_score is not None)
    tuned = Counter(i.finetuned_score for i in items if i.finetuned_score is not None)
    histogram = svg.histogram(
        bins,
        [
            ("base", svg.BASE_COLOR, [base[b] for b in bins]),
            ("fine-tuned", svg.TUNED_COLOR, [tuned[b] for b in bins]),
        ],
        "Judge score distribution",
    )
    base_pts = [
        (float(len(i.base or "")), float(i.base_score)) for i in items if i.base_score is not None
    ]
    tuned_pts = [
        (float(len(i.finetuned or "")), float(i.finetuned_score))
        for i in items
        if i.finetuned_score is not None
    ]
    scatter = svg.scatter(
        [("base", svg.BASE_COLOR, base_pts), ("fine-tuned", svg.TUNED_COLOR, tuned_pts)],
        "Judge score vs response length",
        "response length (characters)",
        "score",
    )
    return [histogram, scatter]


def _diagnostics(results: Results) -> str:
    rows: list[list[str]] = []
    js = results.judge_scores
    if js is not None:
        for s in (js.base, js.finetuned):
            rows.append([_td(f"mean score, {s.model}"), _td(interval(s.mean, ".2f"))])
            rows.append([_td(f"unscored, {s.model}"), _td(f"{s.unscored} of {s.n}")])
            rows.append([_td(f"score–length Spearman, {s.model}"), _td(fmt(s.length_spearman))])
    if results.pairwise is not None:
        ps = results.pairwise.summary
        rows += [
            [_td("win rate (fine-tuned)"), _td(interval(ps.win_rate))],
            [_td("length-controlled win rate"), _td(interval(ps.lc_win_rate))],
            [_td("position consistency"), _td(fmt(ps.position_consistency))],
            [_td("first position preferred"), _td(fmt(ps.first_position_rate))],
            [_td("longer output preferred"), _td(fmt(ps.longer_preferred_rate))],
            [_td("inconsistent / unscored items"), _td(f"{ps.inconsistent} / {ps.unscored}")],
        ]
    return "<h3>Judge diagnostics</h3>" + _table(["diagnostic", "value"], rows, "diagnostics")


def _flipped(items: list[ItemView]) -> str:
    chosen = [
        i for i in items
        if i.flipped is not None
        or (i.pair_outcome in ("base", "finetuned") and i.base != i.finetuned)
    ][:50]  # fmt: skip
    if not chosen:
        return "<p>No item changed outcome.</p>"
    rows = []
    for i in chosen:
        change = i.flipped or f"judge prefers {i.pair_outcome}"
        rows.append(
            "<tr>"
            + _td(i.id)
            + _td(i.category or "")
            + _td(change)
            + f"<td><pre>{escape(i.prompt)}</pre></td>"
            + f"<td><pre>{escape(i.base or '(no output)')}</pre></td>"
            + f"<td><pre>{escape(i.finetuned or '(no output)')}</pre></td>"
            + f'<td><pre class="diff">{word_diff(i.base or "", i.finetuned or "")}</pre></td>'
            + "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("id", "category", "change", "prompt", "base", "fine-tuned", "diff")
    )
    return (
        f'<table class="sortable" id="flipped"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _all_items(items: list[ItemView]) -> str:
    rows = [
        [
            _td(i.id),
            _td(i.category or ""),
            _td(i.difficulty or ""),
            _td("yes" if i.adversarial else ""),
            _td("—" if i.base_score is None else i.base_score, i.base_score),
            _td("—" if i.finetuned_score is None else i.finetuned_score, i.finetuned_score),
            _td(i.pair_outcome or "—"),
            _td(len(i.base or ""), len(i.base or "")),
            _td(len(i.finetuned or ""), len(i.finetuned or "")),
        ]
        for i in items
    ]
    headers = [
        "id", "category", "difficulty", "adversarial", "judge base", "judge fine-tuned",
        "pairwise winner", "base chars", "fine-tuned chars",
    ]  # fmt: skip
    return (
        f"<details><summary>{len(items)} items</summary>{_table(headers, rows, 'items')}</details>"
    )


def _contamination(results: Results) -> str:
    summary = results.contamination
    if summary is None:
        return '<p class="note">Not checked (no training data configured).</p>'
    flagged = summary.get("flagged", [])
    head = (
        f"<p>{summary.get('contaminated')} of {summary.get('total')} items share "
        f"{escape(str(summary.get('n')))}-grams with the training data "
        f"({escape(', '.join(map(str, summary.get('train', []))))}).</p>"
    )
    skipped = contamination_skipped(summary)
    if skipped:
        items = "".join(f"<li>{escape(line[2:])}</li>" for line in skipped[1:])
        head += f"<p><strong>{escape(skipped[0])}</strong></p><ul>{items}</ul>"
    head += semantic_html(summary)
    rows = [
        [
            _td(f["id"]),
            _td(f"{f['overlap']:.2f}", f["overlap"]),
            _td(" … ".join(f.get("spans", []))),
            _td(", ".join(f.get("found_in", []))),
        ]
        for f in flagged
    ]
    if not rows:
        return head
    return head + _table(["id", "overlap", "matched text", "found in"], rows, "contamination")


def _benchmarks(results: Results) -> str:
    rows = []
    for b in results.benchmarks:
        for m in b.measures:
            d = m.difference
            delta = "—" if d is None else f"{d.value:+.3f} [{d.ci_low:.3f}, {d.ci_high:.3f}]"
            p = "—" if m.p_value is None else f"{m.p_value:.4f}"
            rows.append(
                [
                    _td(b.name),
                    _td(m.name),
                    _td(m.n, m.n),
                    _td(f"{m.base:.3f}", m.base),
                    _td(f"{m.finetuned:.3f}", m.finetuned),
                    _td(delta, None if d is None else d.value),
                    _td(p, m.p_value),
                ]
            )
    headers = ["benchmark", "measure", "n", "base", "fine-tuned", "difference [CI]", "p (Holm)"]
    return _table(headers, rows, "benchmarks") + _benchmark_signatures(results)


def _benchmark_signatures(results: Results) -> str:
    """Each benchmark's protocol signature, and a warning where the two runs' differ."""
    items = []
    for b in results.benchmarks:
        for role, sig in b.signatures:
            label = f"{b.name} ({role})" if role else b.name
            items.append(f"<li>{escape(label)}: <code>{escape(sig)}</code></li>")
        if b.mismatch:
            items.append(
                f'<li class="worse">{escape(b.name)}: the models ran different protocols '
                f"({escape('; '.join(b.mismatch))}); its difference mixes the protocol with "
                "the fine-tuning.</li>"
            )
    return (
        '<p class="note">Protocol signatures (numbers compare only under equal signatures):</p>'
        f'<ul id="benchmark-signatures">{"".join(items)}</ul>'
    )


def render_html(results: Results) -> str:
    """The self-contained HTML report."""
    gens = "".join(
        f"<li>{escape(g.model)}: <code>{escape(g.spec)}</code>"
        + (f" ({escape(g.setup)})" if g.setup else "")
        + f", {g.n} outputs, {g.errors} failed, "
        f"mean {g.mean_chars:.0f} chars</li>"
        for g in results.generation
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in results.notes)
    sections = [
        f"<h1>tuneval: {escape(results.name)}</h1>",
        f"<p>{results.n_examples} items in {len(results.categories)} categories.</p>",
        f"<ul>{gens}</ul>",
        "<h2>Verdict</h2>",
        _verdicts(results) if results.verdicts else "<p>No measure could be compared.</p>",
        "<h2>Metrics by category</h2>",
        _metric_charts(results),
        "<h2>Judge</h2>",
        _judge_section(results),
        "<h2>Flipped items</h2>",
        _flipped(results.items),
        "<h2>All items</h2>",
        _all_items(results.items),
        "<h2>Contamination</h2>",
        _contamination(results),
    ]
    if results.benchmarks:
        sections[-2:-2] = ["<h2>Benchmarks</h2>", _benchmarks(results)]
    if results.cost is not None:
        sections.append(cost_html(results.cost))
    if notes:
        sections += ["<h2>Notes</h2>", f"<ul>{notes}</ul>"]
    sections.append(
        f'<p class="note">results.json schema v{results.schema_version}, tuneval '
        f"{escape(results.tuneval_version)}, computed {escape(results.created)}</p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>tuneval report: {escape(results.name)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + f"<script>{_JS}</script></body></html>\n"
    )
