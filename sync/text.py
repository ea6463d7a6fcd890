"""Text every sink can hold: what XML 1.0 (.xlsx), UTF-8 (CSV) and Google Sheets all accept.

Input files may hold anything JSON can say, including control characters ("\\u0007") and lone
surrogates ("\\ud800"), which openpyxl refuses or writes as an unreadable workbook and UTF-8 cannot
encode. The reader replaces them (and reports where); the sinks' conversion step replaces any left.
"""

from __future__ import annotations

import re

# C0 controls but tab, line feed and carriage return; DEL; UTF-16 surrogates (only lone ones reach a str);
# U+FFFE and U+FFFF. Everything XML 1.0 forbids, plus DEL.
UNHOLDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
# The most characters a cell holds in every sink: .xlsx's limit (Google Sheets allows 50,000).
MAX_CELL_CHARS = 32_767


def has_unholdable(text: str) -> bool:
    return UNHOLDABLE.search(text) is not None


def holdable(text: str) -> str:
    """`text` with every character a sink cannot hold replaced by U+FFFD."""
    return UNHOLDABLE.sub(REPLACEMENT, text) if UNHOLDABLE.search(text) else text


def first_unholdable(text: str) -> str:
    """The first unholdable character as U+XXXX, for messages ('' when there is none)."""
    found = UNHOLDABLE.search(text)
    return f"U+{ord(found.group(0)):04X}" if found else ""
