"""Cost estimates: ledger lines times a price table; unknown models are unknown, not guessed."""

import pytest

from tuneval.models.pricing import (
    PriceTable,
    UsageLedger,
    UsageLine,
    estimate_cost,
    format_usd,
    read_usage,
)


def line(spec: str, mode: str = "live", prompt: int = 1_000_000, completion: int = 0) -> UsageLine:
    model = spec.rpartition("#")[2] if "#" in spec else spec.partition(":")[2]
    return UsageLine(
        spec=spec, model=model, mode=mode, prompt_tokens=prompt, completion_tokens=completion
    )


def test_live_and_batch_prices_with_the_default_discount():
    lines = [
        line("openai:gpt-4o-mini", "live", 2_000_000, 1_000_000),
        line("openai:gpt-4o-mini", "batch", 2_000_000, 1_000_000),
    ]
    est = estimate_cost(lines)
    live, batch = sorted(est.lines, key=lambda c: c.mode == "batch")
    assert live.usd == pytest.approx(2 * 0.15 + 0.60)
    assert batch.usd == pytest.approx((2 * 0.15 + 0.60) / 2)
    assert est.total_usd == pytest.approx(0.9 * 1.5)
    assert est.batch_saved_usd == pytest.approx(0.45)
    assert live.source == "built-in list price" and live.calls == 1


def test_config_prices_win_and_the_discount_is_configurable():
    table = PriceTable({"gpt-4o-mini": {"input": 1.0, "output": 2.0}}, batch_discount=0.25)
    est = estimate_cost([line("openai:gpt-4o-mini", "batch", 1_000_000, 1_000_000)], table)
    assert est.total_usd == pytest.approx(3.0 * 0.75)
    assert est.lines[0].source == "calls.prices"


def test_unknown_model_makes_the_total_unknown_never_a_guess():
    est = estimate_cost([line("openai:gpt-4o-mini"), line("openai-compatible:http://h/v1#mine")])
    assert est.total_usd is None
    assert est.unknown_models == ["mine"]
    assert est.known_usd == pytest.approx(0.15)
    assert format_usd(est.total_usd) == "unknown"


@pytest.mark.parametrize(
    ("model", "priced_as"),
    [
        ("gpt-4o-2024-08-06", 2.50),
        ("claude-3-5-haiku-20241022", 0.80),
        ("claude-3-5-sonnet-latest", 3.00),
        ("gpt-4o-mini-high", None),  # not a snapshot: no prefix guess
    ],
)
def test_dated_snapshots_match_their_family_only(model, priced_as):
    price, _ = PriceTable().lookup(f"openai:{model}", model)
    assert (price.input if price else None) == priced_as


def test_local_models_cost_nothing():
    est = estimate_cost([line("llamacpp:default"), line("mock:echo")])
    assert est.total_usd == 0.0
    assert {c.source for c in est.lines} == {"local model (no API charge)"}


def test_ledger_round_trip(tmp_path):
    ledger = UsageLedger(tmp_path)
    ledger.add("openai:gpt-4o", "gpt-4o", "batch", 10, 5)
    ledger.close()
    assert read_usage(tmp_path) == [line("openai:gpt-4o", "batch", 10, 5)]
    assert format_usd(1234.5) == "$1,234.50" and format_usd(0.01234) == "$0.0123"
