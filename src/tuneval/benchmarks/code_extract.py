"""Getting the program out of a model's answer: fenced blocks, stop sequences.

Chat models answer in Markdown; the code is in a fenced block whose info string may read
``python``, ``python3``, ``py`` or nothing, with or without a space after the backticks,
with Windows line ends, and sometimes followed by a second block (a usage example). Base
models continue the prompt and are cut at the reference harness's stop sequences.
"""

from __future__ import annotations

import re

CODEX_STOPS = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
"""Stop sequences of HumanEval completion (Chen et al. 2021, the Codex paper)."""

_OPEN = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
_CLOSE = re.compile(r"^[ \t]*```[ \t]*$", re.MULTILINE)
_CODE_LANGS = {"", "python", "python3", "py", "py3", "pycon"}


def fenced_blocks(text: str) -> list[str]:
    """The contents of the Python (or unlabelled) fenced blocks of ``text``, in order.

    An unclosed last block (the answer hit its token limit) runs to the end of the text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks: list[str] = []
    pos = 0
    while (start := _OPEN.search(text, pos)) is not None:
        body_start = start.end() + 1
        end = _CLOSE.search(text, body_start)
        body = text[body_start : end.start() if end else len(text)]
        if start.group(1).lower() in _CODE_LANGS:
            blocks.append(body)
        if end is None:
            break
        pos = end.end()
    return blocks


def extract_code(text: str, entry_point: str | None = None) -> str:
    """The code in a model answer.

    With fenced blocks: the first block that defines ``entry_point`` (a later block is often
    a usage example, an earlier one a signature restated), else the first block. Without
    any block: the whole text, line ends normalised.
    """
    blocks = fenced_blocks(text)
    if not blocks:
        return text.replace("\r\n", "\n")
    if entry_point:
        defines = re.compile(
            rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}[ \t]*\(", re.M
        )
        for block in blocks:
            if defines.search(block):
                return block
    return blocks[0]


def truncate_at_stops(text: str, stops: tuple[str, ...]) -> str:
    """``text`` up to the earliest stop sequence (as human-eval's post-processing does)."""
    cut = min((i for s in stops if (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]
