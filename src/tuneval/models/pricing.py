"""Cost estimates: the tokens of the calls a run made, times a price table.

Every call that reached a model (live or through a provider batch; cached replies cost
nothing) is appended to ``RUN/usage.jsonl`` by the call runner. `estimate_cost` sums those
lines per model and mode and prices them with a `PriceTable`: the config's ``calls.prices``
first, then a small built-in table of public list prices. A model that neither names gets
cost ``None`` ("unknown"): never a guessed number. Local backends (llama.cpp, Hugging Face,
mock, file replay) cost no API money and are priced at 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from tuneval.records import Record
from tuneval.rundir import JsonlAppender, read_jsonl

USAGE_FILE = "usage.jsonl"
"""Token ledger of a run directory: one line per call that reached a model."""

DEFAULT_BATCH_DISCOUNT = 0.5
"""Share of the price that batch APIs take off (OpenAI and Anthropic both charge half)."""

LOCAL_PREFIXES = frozenset({"llamacpp", "hf", "mock", "file", "inmemory"})
"""Backends that run on the user's own hardware: no API charge."""

Mode = Literal["live", "batch"]


class ModelPrice(Record):
    """List price of one model in USD per million tokens."""

    input: float = Field(ge=0.0)
    """USD per 1M input (prompt) tokens."""
    output: float = Field(ge=0.0)
    """USD per 1M output (completion) tokens."""


BUILTIN_PRICES: dict[str, ModelPrice] = {
    # Public list prices (USD per 1M tokens) of the providers' price pages in 2025; a price
    # the user sets under calls.prices wins. Dated snapshots (gpt-4o-2024-08-06) match
    # their family name.
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40),
    "claude-3-5-haiku": ModelPrice(input=0.80, output=4.00),
    "claude-3-5-sonnet": ModelPrice(input=3.00, output=15.00),
    "claude-3-7-sonnet": ModelPrice(input=3.00, output=15.00),
    "claude-sonnet-4": ModelPrice(input=3.00, output=15.00),
    "claude-opus-4": ModelPrice(input=15.00, output=75.00),
}

# A dated snapshot or alias of a family: gpt-4o-2024-08-06, claude-3-5-haiku-20241022,
# claude-3-5-sonnet-latest. Nothing else is matched by prefix (gpt-4o-mini is not gpt-4o).
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


class PriceTable:
    """Prices by model name or full spec; the user's table first, then the built-in one.

    Args:
        prices: ``{model or spec: ModelPrice}`` from ``calls.prices``.
        batch_discount: Share taken off for batch calls (0.5: half price).
        builtin: Fall back to `BUILTIN_PRICES`.
    """

    def __init__(
        self,
        prices: Mapping[str, ModelPrice | Mapping[str, float]] | None = None,
        *,
        batch_discount: float = DEFAULT_BATCH_DISCOUNT,
        builtin: bool = True,
    ) -> None:
        self.user = {k: ModelPrice.model_validate(v) for k, v in (prices or {}).items()}
        self.builtin = dict(BUILTIN_PRICES) if builtin else {}
        self.batch_discount = batch_discount

    def lookup(self, spec: str, model: str) -> tuple[ModelPrice | None, str]:
        """The price of a model and where it came from (``calls.prices``, ``built-in``...)."""
        if spec.partition(":")[0] in LOCAL_PREFIXES:
            return ModelPrice(input=0.0, output=0.0), "local model (no API charge)"
        family = _SNAPSHOT.sub("", model)
        for table, source in ((self.user, "calls.prices"), (self.builtin, "built-in list price")):
            for key in (spec, model, family):
                if key in table:
                    return table[key], source
        return None, "unknown (add it under calls.prices)"


class UsageLine(Record):
    """One call that reached a model, as the ledger stores it."""

    spec: str
    """Backend spec of the model."""
    model: str
    """Model name (what the price table is keyed on)."""
    mode: Mode
    """``live`` call or provider ``batch``."""
    prompt_tokens: int = 0
    """Input tokens."""
    completion_tokens: int = 0
    """Output tokens."""


class UsageLedger:
    """Appends one `UsageLine` per call to ``RUN/usage.jsonl`` (opened on the first call).

    Args:
        run_dir: The run directory.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / USAGE_FILE
        self._out: JsonlAppender | None = None
        # The file exists once calls were recorded, even if all came from the cache: a run
        # without it predates the ledger (cost not recorded), not a run that cost nothing.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def add(self, spec: str, model: str, mode: Mode, prompt: int, completion: int) -> None:
        """Record one call's tokens (flushed at once, so a killed run keeps what it paid)."""
        if self._out is None:
            self._out = JsonlAppender(self.path)
        line = UsageLine(
            spec=spec, model=model, mode=mode, prompt_tokens=prompt, completion_tokens=completion
        )
        self._out.write(line)

    def close(self) -> None:
        """Flush and close the file."""
        if self._out is not None:
            self._out.close()
            self._out = None


class CostLine(Record):
    """Tokens and estimated cost of one model in one mode."""

    model: str
    """Model name."""
    spec: str
    """Backend spec."""
    mode: Mode
    """``live`` or ``batch``."""
    calls: int
    """Calls that reached the model (cached replies are not counted: they cost nothing)."""
    prompt_tokens: int
    """Input tokens of those calls."""
    completion_tokens: int
    """Output tokens of those calls."""
    price: ModelPrice | None
    """The list price used (before the batch discount); None when unknown."""
    source: str
    """Where the price came from: ``calls.prices``, ``built-in list price``, ``local model``
    or ``unknown``."""
    usd: float | None
    """Estimated cost in USD; None when the model's price is unknown."""


class CostEstimate(Record):
    """What the run's model calls cost, estimated from their tokens."""

    lines: list[CostLine] = Field(default_factory=list)
    """One line per (model, mode)."""
    total_usd: float | None
    """Sum of all lines; None ("unknown") when any line has no price."""
    known_usd: float
    """Sum of the lines with a price."""
    batch_discount: float
    """Share taken off the list price for batch calls."""
    batch_saved_usd: float
    """What the batch calls would have cost more at the live price."""
    unknown_models: list[str] = Field(default_factory=list)
    """Models without a price."""


def read_usage(run_dir: str | Path) -> list[UsageLine]:
    """The ledger lines of a run directory (none when it made no call)."""
    return read_jsonl(Path(run_dir) / USAGE_FILE, UsageLine)


def estimate_cost(lines: Iterable[UsageLine], table: PriceTable | None = None) -> CostEstimate:
    """Price the ledger: tokens per (model, mode) times the table's price.

    Args:
        lines: Ledger lines (see `read_usage`).
        table: Prices; the built-in table with the default batch discount when None.
    """
    table = table or PriceTable()
    groups: dict[tuple[str, str, str], list[int]] = {}
    for line in lines:
        acc = groups.setdefault((line.spec, line.model, line.mode), [0, 0, 0])
        acc[0] += 1
        acc[1] += line.prompt_tokens
        acc[2] += line.completion_tokens
    out: list[CostLine] = []
    saved = 0.0
    for (spec, model, mode), (calls, prompt, completion) in sorted(groups.items()):
        price, source = table.lookup(spec, model)
        usd = None
        if price is not None:
            full = (prompt * price.input + completion * price.output) / 1_000_000
            factor = 1.0 - table.batch_discount if mode == "batch" else 1.0
            usd = full * factor
            saved += full - usd
        out.append(_line(model, spec, mode, (calls, prompt, completion), price, source, usd))
    unknown = sorted({c.model for c in out if c.usd is None})
    known = sum(c.usd for c in out if c.usd is not None)
    return CostEstimate(
        lines=out,
        total_usd=None if unknown else known,
        known_usd=known,
        batch_discount=table.batch_discount,
        batch_saved_usd=saved,
        unknown_models=unknown,
    )


def _line(
    model: str,
    spec: str,
    mode: str,
    counts: tuple[int, int, int],
    price: ModelPrice | None,
    source: str,
    usd: float | None,
) -> CostLine:
    data: dict[str, Any] = {
        "model": model,
        "spec": spec,
        "mode": mode,
        "calls": counts[0],
        "prompt_tokens": counts[1],
        "completion_tokens": counts[2],
        "price": price,
        "source": source,
        "usd": usd,
    }
    return CostLine.model_validate(data)


def run_cost(
    run_dir: str | Path,
    prices: Mapping[str, ModelPrice] | None = None,
    batch_discount: float = DEFAULT_BATCH_DISCOUNT,
) -> CostEstimate | None:
    """The cost estimate of a run directory's calls; None when it has no ledger (older runs).

    Args:
        run_dir: The run directory.
        prices: The config's ``calls.prices``.
        batch_discount: The config's ``calls.batch_discount``.
    """
    if not (Path(run_dir) / USAGE_FILE).exists():
        return None
    table = PriceTable(prices, batch_discount=batch_discount)
    return estimate_cost(read_usage(run_dir), table)


def format_usd(value: float | None) -> str:
    """``$0.0123`` (four significant decimals for small sums), or ``unknown``."""
    if value is None:
        return "unknown"
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"
