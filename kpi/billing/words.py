"""Step 8's words: numbers, instants and counts as text, column-wise (one text per row, each distinct value
formatted once), for the Billing tab's reasons (kpi.billing.reasons)."""

from __future__ import annotations

import numpy as np

from kpi.billing.pieces import utc


def minutes(ns: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Instants as "YYYY-MM-DD HH:MM" (UTC) where `where` is set, "" elsewhere (formatting only what a reason shows)."""
    out = np.full(len(ns), "", dtype=object)
    if where.any():
        out[where] = to_minute(ns[where])
    return out


def to_minute(ns: np.ndarray) -> np.ndarray:
    """Instants (int64 ns, UTC) as "YYYY-MM-DD HH:MM", as strftime writes them: numpy's ISO text ("YYYY-MM-DDTHH:MM")
    with a space for the T (int64 ns instants all fall in 1677-2262, where that text is 16 characters; NaT, and an
    empty array, go through pandas)."""
    ns = np.asarray(ns, dtype=np.int64)
    if not len(ns) or bool((ns == np.iinfo(np.int64).min).any()):  # NaT
        return np.asarray(utc(ns).strftime("%Y-%m-%d %H:%M"), dtype=object)
    minutes = ns.view("datetime64[ns]").astype("datetime64[m]")
    text = np.datetime_as_string(minutes, unit="m")  # fixed width: 16 characters
    chars = text.view("U1").reshape(len(text), -1)
    chars[:, 10] = " "
    return chars.reshape(-1).view(text.dtype).astype(object)


def plural(n: float, word: str) -> str:
    """"1 seat", "2 seats", "1.5 seats": a count and its word."""
    return f"{n:g} {word}{'s' if n != 1 else ''}"


def join(*parts: np.ndarray | str) -> np.ndarray:
    """Texts joined row by row: arrays (one text per row, all of one length; at least one) and words (the same in
    every row)."""
    out: np.ndarray | None = None
    words = ""
    for part in parts:
        if isinstance(part, str):
            words += part
            continue
        column = np.asarray(part, dtype=object)
        out = (column if not words else words + column) if out is None else (out + words + column if words else
                                                                            out + column)
        words = ""
    if out is None:
        raise ValueError("join needs at least one column")
    return out + words if words else out


def some(where: np.ndarray, *parts: np.ndarray | str) -> np.ndarray:
    """`join` of `parts` (arrays of one text per row) on the rows `where` is set, "" elsewhere; built only there."""
    out = np.full(len(where), "", dtype=object)
    rows = np.flatnonzero(where)
    if len(rows):
        out[rows] = join(*(p if isinstance(p, str) else np.asarray(p, dtype=object)[rows] for p in parts))
    return out


def formatted(values: np.ndarray, spec: str) -> np.ndarray:
    """Each number as format(number, spec): each distinct value formatted once."""
    values = np.asarray(values)
    if not len(values):
        return np.zeros(0, dtype=object)
    distinct, at = np.unique(values, return_inverse=True)
    return np.array([format(v, spec) for v in distinct.tolist()], dtype=object)[at.reshape(-1)]


def ints(values: np.ndarray) -> np.ndarray:
    """Whole numbers as text."""
    return formatted(np.asarray(values, dtype=np.int64), "d")


def plural_s(n: np.ndarray) -> np.ndarray:
    """"s" where the count is not 1."""
    return np.where(np.asarray(n) != 1, "s", "").astype(object)


def durations(seconds: np.ndarray) -> np.ndarray:
    """Whole seconds as "S s", "M min S s" or "H h M min", row by row."""
    s = np.asarray(seconds, dtype=np.int64)
    return np.where(s < 60, some(s < 60, ints(s), " s"),
                    np.where(s < 3600, some((s >= 60) & (s < 3600), ints(s // 60), " min ", ints(s % 60), " s"),
                             some(s >= 3600, ints(s // 3600), " h ", ints(s % 3600 // 60), " min")))
