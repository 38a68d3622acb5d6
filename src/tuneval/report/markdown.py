"""``report.md``: the verdict and the key tables, short enough for a pull-request comment."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tuneval.judge.records import Interval
from tuneval.report.cost_section import cost_markdown
from tuneval.report.schema import Results
from tuneval.report.semantic_section import semantic_markdown


def _pct(x: float) -> str:
    return f"{x:.3f}"


def fmt(x: float | None) -> str:
    """A rate with three decimals, or a dash."""
    return "—" if x is None else f"{x:.3f}"


def interval(iv: Interval | None, spec: str = ".3f") -> str:
    """``value [low, high]``, or a dash."""
    if iv is None:
        return "—"
    return f"{iv.value:{spec}} [{iv.ci_low:{spec}}, {iv.ci_high:{spec}}]"


def _table(head: tuple[str, str], rows: Iterable[str]) -> list[str]:
    """A markdown table: ``head`` is its column row and alignment row."""
    return [*head, *rows]


_VERDICT_HEAD = (
    "| measure | fine-tuned − base | 95% CI | p (Holm) | MDE (80% power) | unit | verdict |",
    "|---|---:|---|---:|---:|---|---|",
)
_METRICS_HEAD = (
    "| category | n | measure | base | fine-tuned | Δ [CI] | p (Holm) |",
    "|---|---:|---|---:|---:|---|---:|",
)
_BENCHMARK_HEAD = (
    "| benchmark | measure | n | base | fine-tuned | Δ [CI] | p (Holm) |",
    "|---|---|---:|---:|---:|---|---:|",
)


def _verdict_rows(results: Results) -> Iterator[str]:
    for v in results.verdicts:
        p = "—" if v.p_value is None else f"{v.p_value:.4f}"
        units = v.unit if v.units is None else f"{v.unit} ({v.units})"
        yield (
            f"| {v.measure} | {v.difference:+.3f} | [{_pct(v.ci_low)}, {_pct(v.ci_high)}] "
            f"| {p} | {v.mde_text} | {units} | **{v.text}** |"
        )


def _metrics_rows(results: Results) -> Iterator[str]:
    for cat in results.per_category:
        for c in cat.metrics.comparisons if cat.metrics is not None else ():
            yield (
                f"| {_esc(cat.category)} | {c.n} | {c.metric}.{c.name} | {c.base.value:.3f} "
                f"| {c.finetuned.value:.3f} | {c.difference:+.3f} [{c.ci_low:.3f}, "
                f"{c.ci_high:.3f}] | {c.p_adjusted:.4f} |"
            )


def _benchmark_table(results: Results) -> list[str]:
    rows = []
    for b in results.benchmarks:
        for m in b.measures:
            d = m.difference
            delta = "—" if d is None else f"{d.value:+.3f} [{d.ci_low:.3f}, {d.ci_high:.3f}]"
            rows.append(
                f"| {_esc(b.name)} | {_esc(m.name)} | {m.n} | {m.base:.3f} | {m.finetuned:.3f} "
                f"| {delta} | {fmt(m.p_value)} |"
            )
    return [*_table(_BENCHMARK_HEAD, rows), "", *_benchmark_signatures(results)]


def _benchmark_signatures(results: Results) -> list[str]:
    """Each benchmark's protocol signature, and a loud line where the two runs' differ."""
    lines = ["Protocol signatures (numbers compare only under equal signatures):", ""]
    for b in results.benchmarks:
        for role, sig in b.signatures:
            lines.append(f"- {_esc(b.name)}{f' ({role})' if role else ''}: `{sig}`")
        if b.mismatch:
            lines.append(
                f"- **{_esc(b.name)}: the models ran different protocols "
                f"({_esc('; '.join(b.mismatch))}); its difference mixes the protocol with the "
                "fine-tuning.**"
            )
    return lines


def contamination_skipped(summary: dict[str, object]) -> list[str]:
    """Say how many training records the contamination check could not read, and where."""
    bad = summary.get("bad_records") or 0
    if not bad:
        return []
    first = summary.get("problems")
    return [
        f"{bad} unreadable training records were skipped (skip_bad), so the check did not "
        "see them; first:",
        *([f"- {p}" for p in first] if isinstance(first, list) else []),
    ]


def _judge_lines(results: Results) -> list[str]:
    lines: list[str] = []
    js = results.judge_scores
    if js is not None:
        for s in (js.base, js.finetuned):
            mean = (
                "—"
                if s.mean is None
                else f"{s.mean.value:.2f} [{s.mean.ci_low:.2f}, {s.mean.ci_high:.2f}]"
            )
            lines.append(f"- judge score of **{s.model}**: {mean} ({s.scored}/{s.n} scored)")
    pw = results.pairwise
    if pw is not None:
        ps = pw.summary
        lines.append(
            f"- pairwise: {ps.wins} wins, {ps.ties} ties, {ps.losses} losses for the fine-tuned "
            f"model; win rate {interval(ps.win_rate)}; length-controlled "
            f"{interval(ps.lc_win_rate)}"
        )
        lines.append(
            f"- judge diagnostics: position consistency {fmt(ps.position_consistency)}, "
            f"longer output preferred {fmt(ps.longer_preferred_rate)}"
        )
    return lines


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: Results) -> str:
    """The Markdown report."""
    gens = ", ".join(
        f"{g.model} = `{g.spec}`" + (f" ({_esc(g.setup)})" if g.setup else "")
        for g in results.generation
    )
    out = [
        f"# tuneval: {results.name}",
        "",
        f"{results.n_examples} items, {len(results.categories)} categories; {gens}.",
        "",
        "## Verdict",
        "",
        *(
            _table(_VERDICT_HEAD, _verdict_rows(results))
            if results.verdicts
            else ["No measure could be compared."]
        ),
        "",
    ]
    if any(c.metrics for c in results.per_category):
        out += ["## Metrics by category", "", *_table(_METRICS_HEAD, _metrics_rows(results)), ""]
    judge = _judge_lines(results)
    if judge:
        out += ["## Judge", "", *judge, ""]
    if results.benchmarks:
        out += ["## Benchmarks", "", *_benchmark_table(results), ""]
    if results.contamination is not None:
        c = results.contamination
        out += [
            "## Contamination",
            "",
            f"{c.get('contaminated')} of {c.get('total')} items share {c.get('n')}-grams with "
            "the training data.",
            *(f"- `{f['id']}`: overlap {f['overlap']:.2f}" for f in c.get("flagged", [])),
            *contamination_skipped(c),
            *semantic_markdown(c),
            "",
        ]
    out += cost_markdown(results.cost)
    if results.notes:
        out += ["## Notes", "", *(f"- {n}" for n in results.notes), ""]
    out.append(
        f"_results.json schema v{results.schema_version}, tuneval {results.tuneval_version}_"
    )
    return "\n".join(out) + "\n"
