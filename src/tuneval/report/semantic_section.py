"""The paraphrase part of the contamination section: each eval item beside its training match.

It reads the ``semantic`` summary that `tuneval.contamination.semantic.semantic_summary`
puts into results.json, so report.md and report.html show the same pairs.
"""

from __future__ import annotations

from html import escape
from typing import Any

SHOWN = 30
"""Pairs shown side by side (confirmed ones first; results.json keeps more)."""


def _verdict(pair: dict[str, Any], judged: bool) -> str:
    """The judge's verdict with its reason (or why the reply was unusable)."""
    if not judged:
        return "not judged"
    word = "unscored" if pair.get("unscored") else (
        "rephrasing" if pair.get("verdict") else "different"
    )  # fmt: skip
    return f"{word}: {pair['reason']}" if pair.get("reason") else word


def _headline(sem: dict[str, Any]) -> str:
    judge = sem.get("judge")
    judged = (
        f"; the judge ({judge}) confirmed {sem.get('confirmed')} as rephrasings"
        + (f", {sem.get('unscored')} replies unscored" if sem.get("unscored") else "")
        if judge
        else "; no judge verified them"
    )
    return (
        f"Semantic scan ({sem.get('model')}, top-{sem.get('top_k')}, cosine similarity >= "
        f"{sem.get('floor')}): {sem.get('candidates')} items have candidate rephrasings in "
        f"{sem.get('records_embedded')} training records{judged}."
    )


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def semantic_markdown(summary: dict[str, Any]) -> list[str]:
    """Markdown lines (empty when the semantic scan did not run)."""
    sem = summary.get("semantic")
    if not isinstance(sem, dict):
        return []
    judged = bool(sem.get("judge"))
    lines = ["", _headline(sem), ""]
    pairs = sem.get("pairs", [])[:SHOWN]
    if pairs:
        lines += [
            "| id | similarity | judge | eval item | training text | found in |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(p['id'])} | {p['similarity']:.2f} | {_cell(_verdict(p, judged))} | "
            f"{_cell(p['eval_text'])} | {_cell(p['text'])} | {_cell(p['found_in'])} |"
            for p in pairs
        ]
    return lines


def semantic_html(summary: dict[str, Any]) -> str:
    """An HTML block (empty when the semantic scan did not run)."""
    sem = summary.get("semantic")
    if not isinstance(sem, dict):
        return ""
    judged = bool(sem.get("judge"))
    rows = "".join(
        f'<tr><td>{escape(str(p["id"]))}</td><td data-v="{p["similarity"]:.6g}">'
        f"{p['similarity']:.2f}</td><td>{escape(_verdict(p, judged))}</td>"
        f"<td>{escape(str(p['eval_text']))}</td><td>{escape(str(p['text']))}</td>"
        f"<td>{escape(str(p['found_in']))}</td></tr>"
        for p in sem.get("pairs", [])[:SHOWN]
    )
    head = f"<p>{escape(_headline(sem))}</p>"
    if not rows:
        return head
    titles = ["id", "similarity", "judge", "eval item", "training text", "found in"]
    cols = "".join(f"<th>{t}</th>" for t in titles)
    return (
        f'{head}<table class="sortable" id="paraphrases"><thead><tr>{cols}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
