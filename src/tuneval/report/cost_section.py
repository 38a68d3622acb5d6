"""The cost-estimate section of the Markdown and HTML reports."""

from __future__ import annotations

from html import escape

from tuneval.models.pricing import CostEstimate, CostLine, format_usd


def _price(line: CostLine, discount: float) -> str:
    if line.price is None:
        return "unknown"
    text = f"{line.price.input:g} / {line.price.output:g}"
    if line.mode == "batch" and discount:
        text += f" -{discount:.0%}"
    return text


def _rows(cost: CostEstimate) -> list[list[str]]:
    return [
        [
            line.model,
            line.mode,
            str(line.calls),
            f"{line.prompt_tokens:,}",
            f"{line.completion_tokens:,}",
            _price(line, cost.batch_discount),
            line.source,
            format_usd(line.usd),
        ]
        for line in cost.lines
    ]


HEADER = ["model", "mode", "calls", "input tokens", "output tokens", "USD / 1M in / out"]
HEADER += ["price from", "cost"]


def cost_summary(cost: CostEstimate) -> str:
    """One sentence: the total, what batching saved, and what has no price."""
    if not cost.lines:
        return "No call reached a model in this run (every reply came from the call cache): $0."
    text = f"Estimated cost of the calls this run made: {format_usd(cost.total_usd)}"
    if cost.total_usd is None:
        names = ", ".join(cost.unknown_models)
        text += (
            f" (no price for {names}; add it under calls.prices; the priced part is "
            f"{format_usd(cost.known_usd)})"
        )
    if cost.batch_saved_usd:
        text += f"; batch mode saved {format_usd(cost.batch_saved_usd)}"
    return text + ". Cached replies cost nothing and are not counted."


def cost_markdown(cost: CostEstimate | None) -> list[str]:
    """The section's Markdown lines (none when the run recorded no usage)."""
    if cost is None:
        return []
    out = ["## Cost estimate", "", cost_summary(cost), ""]
    if cost.lines:
        out += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(row) + " |" for row in _rows(cost)]
        out.append("")
    return out


def cost_html(cost: CostEstimate | None) -> str:
    """The section's HTML (empty when the run recorded no usage)."""
    if cost is None:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for row in _rows(cost)
    )
    table = f"<table><tr>{head}</tr>{body}</table>" if cost.lines else ""
    return f"<h2>Cost estimate</h2><p>{escape(cost_summary(cost))}</p>{table}"
