"""The "Data quality" tab: every problem found in the input, one row each (file, line, field, reason)."""

from __future__ import annotations

import pandas as pd

from kpi.tables import Column, Context, Tab

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def data_quality(ctx: Context) -> pd.DataFrame:
    """One row per issue, errors first, then by file and line (files as sync/ names them for a reader: relative to
    the config's folder, sync.paths)."""
    issues = ctx.issues
    order = issues["severity"].map(_SEVERITY_ORDER).fillna(3)
    return (
        issues.assign(_order=order)
        .sort_values(["_order", "file", "line"], kind="stable", na_position="last")
        .loc[:, ["severity", "file", "line", "field", "reason", "value"]]
        .set_axis(["Severity", "File", "Line", "Field", "Reason", "Value"], axis=1)
    )


TABS = [
    Tab(
        name="Data quality",
        description=(
            "Every problem found in the input files. error: the line was dropped (a run fails when more than "
            "quality.max_bad_share of a file's lines are errors); warning: the line was kept, a value was blanked, "
            "text no output can hold was replaced with U+FFFD, it repeats an earlier line exactly, or an attribute is "
            "unknown; info: kept but ignored for MRR (zero amounts, refunds)."
        ),
        columns=(
            Column("Severity", "text", "error (line dropped), warning (kept, see reason) or info (ignored for MRR)."),
            Column("File", "text", "The input file, relative to the config file's folder (as [sources] names it)."),
            Column("Line", "int", "Line number in the file, from 1; empty on a row that summarises further lines."),
            Column("Field", "text", "The field, by its name in the file; empty when the whole line is unreadable."),
            Column("Reason", "text", "What is wrong and what the job did about it."),
            Column("Value", "text", "The offending value, shortened."),
        ),
        build=data_quality,
    )
]
