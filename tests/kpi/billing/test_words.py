"""kpi.billing.words on its own: the column-wise text the Billing reasons are made of, checked against Python's own
formatting row by row."""

import numpy as np
import pandas as pd
import pytest

from kpi.billing.words import durations, formatted, ints, join, minutes, plural, plural_s, some, to_minute


def _ns(*texts: str) -> np.ndarray:
    return np.array([pd.Timestamp(t, tz="UTC").value for t in texts], dtype=np.int64)


def test_to_minute_writes_what_strftime_writes_and_drops_the_seconds():
    ns = _ns("2016-01-31 23:59:59", "2017-10-17 10:53:42.5", "2000-02-29 00:00:00")
    expected = [pd.Timestamp(v, tz="UTC").strftime("%Y-%m-%d %H:%M") for v in ns]
    assert list(to_minute(ns)) == expected == ["2016-01-31 23:59", "2017-10-17 10:53", "2000-02-29 00:00"]


def test_to_minute_of_nothing_is_nothing():
    assert list(to_minute(np.zeros(0, dtype=np.int64))) == []


def test_to_minute_leaves_a_missing_instant_to_pandas_and_writes_the_others():
    got = to_minute(np.array([np.iinfo(np.int64).min, 1_500_000_000_000_000_000]))
    assert pd.isna(got[0]) and got[1] == "2017-07-14 02:40"


def test_minutes_formats_only_the_rows_asked_for():
    ns = _ns("2016-01-01 10:00", "2016-01-02 11:30")
    assert list(minutes(ns, np.array([False, True]))) == ["", "2016-01-02 11:30"]
    assert list(minutes(ns, np.array([False, False]))) == ["", ""]


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (59, "59 s"), (60, "1 min 0 s"), (3599, "59 min 59 s"),
                                           (3600, "1 h 0 min"), (7322, "2 h 2 min"), (90061, "25 h 1 min")])
def test_durations(seconds, text):
    assert list(durations(np.array([seconds, 5]))) == [text, "5 s"]


def test_join_mixes_columns_and_words_and_needs_a_column():
    a = np.array(["x", "y"], dtype=object)
    assert list(join("<", a, "|", ints(np.array([1, 2])), ">")) == ["<x|1>", "<y|2>"]
    assert list(join(a)) == ["x", "y"]
    with pytest.raises(ValueError, match="at least one column"):
        join("no", "column")


def test_some_builds_only_where_set():
    a = np.array(["x", "y", "z"], dtype=object)
    assert list(some(np.array([True, False, True]), "(", a, ")")) == ["(x)", "", "(z)"]


def test_formatted_and_counts():
    values = np.array([2.5, 180.0, 2.5, 0.005])
    assert list(formatted(values, ".2f")) == [format(v, ".2f") for v in values]
    assert list(formatted(np.array([]), "g")) == []
    assert list(plural_s(np.array([0, 1, 2]))) == ["s", "", "s"]
    assert [plural(n, "seat") for n in (1, 2, 1.5)] == ["1 seat", "2 seats", "1.5 seats"]


def test_to_minute_agrees_with_strftime_on_random_instants():
    rng = np.random.default_rng(7)
    ns = rng.integers(_ns("1700-01-01")[0], _ns("2260-01-01")[0], 500)
    assert list(to_minute(ns)) == [pd.Timestamp(v, tz="UTC").strftime("%Y-%m-%d %H:%M") for v in ns]
