"""Regenerate the example eval set and the two models' prediction files in this folder.

The task: short factual questions with reference answers, in four categories. The "base"
outputs imitate an instruction model before fine-tuning (wordy, sometimes wrong); the
"finetuned" outputs imitate the same model after fine-tuning on concise answers (terse,
right more often, with a few regressions). Deterministic: ``python examples/make_examples.py``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CAPITALS = {
    "France": "Paris",
    "Japan": "Tokyo",
    "Kenya": "Nairobi",
    "Canada": "Ottawa",
    "Australia": "Canberra",
    "Brazil": "Brasília",
    "Egypt": "Cairo",
    "Norway": "Oslo",
    "Peru": "Lima",
    "Vietnam": "Hanoi",
    "Turkey": "Ankara",
    "Chile": "Santiago",
    "Poland": "Warsaw",
    "Morocco": "Rabat",
    "Nepal": "Kathmandu",
    "Portugal": "Lisbon",
    "Ghana": "Accra",
    "Hungary": "Budapest",
    "Thailand": "Bangkok",
    "Mexico": "Mexico City",
    "Ireland": "Dublin",
    "Argentina": "Buenos Aires",
    "Finland": "Helsinki",
    "Iran": "Tehran",
    "Greece": "Athens",
    "Cuba": "Havana",
    "Sweden": "Stockholm",
    "Indonesia": "Jakarta",
    "Austria": "Vienna",
    "Colombia": "Bogotá",
}
ELEMENTS = {
    "gold": "Au",
    "silver": "Ag",
    "iron": "Fe",
    "sodium": "Na",
    "potassium": "K",
    "lead": "Pb",
    "tin": "Sn",
    "copper": "Cu",
    "mercury": "Hg",
    "tungsten": "W",
    "helium": "He",
    "neon": "Ne",
    "carbon": "C",
    "oxygen": "O",
    "zinc": "Zn",
    "calcium": "Ca",
    "sulfur": "S",
    "nickel": "Ni",
    "uranium": "U",
    "argon": "Ar",
    "chlorine": "Cl",
    "magnesium": "Mg",
    "platinum": "Pt",
    "cobalt": "Co",
    "iodine": "I",
    "lithium": "Li",
    "boron": "B",
    "silicon": "Si",
    "nitrogen": "N",
    "hydrogen": "H",
}
WRONG_CITY = ["Lyon", "Osaka", "Mombasa", "Toronto", "Sydney", "Rio de Janeiro", "Alexandria"]


def qa_items(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(category, difficulty, prompt, reference) tuples."""
    items = []
    for country, city in CAPITALS.items():
        items.append(("geography", "easy", f"What is the capital of {country}?", city))
    for element, symbol in ELEMENTS.items():
        items.append(("chemistry", "medium", f"What is the chemical symbol for {element}?", symbol))
    for _ in range(30):
        a, b = rng.randint(12, 99), rng.randint(12, 99)
        items.append(
            ("arithmetic", "medium", f"What is {a} * {b}? Answer with the number.", str(a * b))
        )
    for _ in range(30):
        km = rng.randint(2, 40) * 5
        items.append(
            (
                "units",
                "hard",
                f"How many metres are in {km} km? Answer with the number.",
                str(km * 1000),
            )
        )
    return items


def base_answer(ref: str, prompt: str, rng: random.Random) -> str:
    """Wordy; wrong about 35% of the time."""
    wrong = rng.random() < 0.35
    answer = ref
    if wrong:
        answer = (
            rng.choice(WRONG_CITY)
            if "capital" in prompt
            else (
                str(int(ref) + rng.choice([-10, 10, 100])) if ref.isdigit() else ref.lower() + "x"
            )
        )
    style = rng.choice(["The answer is {}.", "{}", "Sure! It is {}.", "I believe it's {}."])
    return style.format(answer)


def tuned_answer(ref: str, base: str, rng: random.Random) -> str:
    """Terse; fixes most base errors, breaks a few right answers."""
    base_right = ref in base
    if base_right:
        return ref if rng.random() > 0.06 else ref[:-1] or "?"
    return ref if rng.random() < 0.75 else base.rstrip(".").split()[-1]


TICKETS = {
    "billing": [
        "I was charged twice this month",
        "Can I get a refund for my last invoice?",
        "My card was declined at checkout",
        "Why did my subscription price go up?",
    ],
    "bug report": [
        "The app crashes when I upload a photo",
        "Export to PDF produces a blank page",
        "Login button does nothing on Safari",
        "Search returns results from last year",
    ],
    "feature request": [
        "Please add a dark mode",
        "Could you support CSV import?",
        "I'd love keyboard shortcuts for tagging",
    ],
    "question": [
        "How do I change my email address?",
        "Where can I find my API key?",
        "Is there a limit on team members?",
        "Do you have an on-premise version?",
    ],
}


def intent_rows(rng: random.Random) -> list[dict[str, str]]:
    """Ticket-intent classification: the fine-tuned model's outputs with true labels."""
    labels = list(TICKETS)
    rows = []
    for i in range(160):
        label = rng.choices(labels, [30, 30, 15, 25])[0]
        text = rng.choice(TICKETS[label])
        roll = rng.random()
        pred = label if roll < 0.78 else rng.choice([*labels, "Billing", "Question"])
        rows.append({"id": f"t{i + 1:03d}", "prompt": text, "prediction": pred, "reference": label})
    return rows


def main() -> None:
    rng = random.Random(11)
    here = Path(__file__).parent
    rows, base_rows, tuned_rows = [], [], []
    for i, (category, difficulty, prompt, ref) in enumerate(qa_items(rng)):
        item_id = f"q{i + 1:03d}"
        rows.append(
            {
                "id": item_id,
                "prompt": prompt,
                "reference": ref,
                "category": category,
                "difficulty": difficulty,
            }
        )
        base = base_answer(ref, prompt, rng)
        base_rows.append({"id": item_id, "prediction": base})
        tuned_rows.append({"id": item_id, "prediction": tuned_answer(ref, base, rng)})
    for name, data in (
        ("eval.jsonl", rows),
        ("base.jsonl", base_rows),
        ("finetuned.jsonl", tuned_rows),
    ):
        with (here / name).open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in data)
    with (here / "intent.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in intent_rows(random.Random(3)))
    print(f"wrote {len(rows)} QA items and the intent set")


if __name__ == "__main__":
    main()
