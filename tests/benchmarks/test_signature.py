"""Protocol signatures of benchmark runs (sacreBLEU-style)."""

from __future__ import annotations

import tuneval
from tuneval.benchmarks import parse_signature, protocol_signature, signature_mismatch


def test_signature_format() -> None:
    sig = protocol_signature("mmlu", shots=5, format="lm-eval", template=None, agg="micro")
    assert (
        sig == f"mmlu|shots:5|format:lm-eval|template:none|agg:micro|tuneval:{tuneval.__version__}"
    )


def test_signature_values_are_unambiguous() -> None:
    sig = protocol_signature("x", stops=("\nclass", "\ndef"), retry=False, judge="openai:gpt-4|x")
    name, fields = parse_signature(sig)
    assert name == "x"
    assert fields["retry"] == "no"
    assert fields["judge"] == "openai=gpt-4/x"
    assert len(sig.split("|")) == 5


def test_mismatch_names_the_fields() -> None:
    a = protocol_signature("humaneval", mode="chat", timeout=3.0)
    b = protocol_signature("humaneval", mode="completion", timeout=3.0)
    assert signature_mismatch(a, a) == []
    assert signature_mismatch(a, b) == ["mode: chat != completion"]
    c = protocol_signature("mbpp", mode="chat")
    assert signature_mismatch(a, c) == ["benchmark: humaneval != mbpp", "timeout: 3.0 != missing"]
