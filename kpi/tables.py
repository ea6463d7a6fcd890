"""Each tab is declared once: name, builder, columns with their types. Sinks and the About tab read these.

A builder takes the run's `Context` and returns a DataFrame whose columns are exactly the
declared column names, in order. Column kinds decide the cell type and number format in
every sink (see `sync/sinks/cells.py`):

    text      a string (never a formula, whatever it starts with)
    int       a whole number
    number    a decimal number
    money     an amount in the configured currency
    percent   a fraction (0.05) shown as a percentage
    month     a month, given as its first day; shown yyyy-mm
    date      a calendar day; shown yyyy-mm-dd
    datetime  an instant, shown in the configured timezone
    bool      TRUE / FALSE
    count     a whole number or a median of whole numbers: shown whole (5), a half as such (5.5)
    figure    one headline number per row, each with its own display (a `Figure`: money, percent, a
              count or a ratio, with words around it); written as a number, formatted cell by cell
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from kpi import mrr
from kpi.billing.pricebook import PriceBook
from kpi.cohorts import CohortMatrices, as_of_month, cohort_matrices
from kpi.profile import customer_profile, last_interval
from kpi.schedule import Codes, CustomerCodes

if TYPE_CHECKING:
    from kpi.params import Params
    from kpi.partition import PerCustomer

ColumnKind = Literal["text", "int", "number", "money", "percent", "month", "date", "datetime", "bool", "count",
                     "figure"]
COLUMN_KINDS: tuple[str, ...] = ("text", "int", "number", "money", "percent", "month", "date", "datetime", "bool",
                                 "count", "figure")


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Figure:
    """A number in a column of kind "figure" and how it is shown: as money (in the configured currency, with cents,
    as in every money column), a percent (a fraction, one decimal), an int, or a number with `decimals`; `prefix`
    and `suffix` are words shown around it ("NRR " 104.3%, 3.8 " months"); `signed` shows a + before a gain.
    Sinks write `value` as a number and give each cell its own number format (sync/sinks/cells.py)."""

    value: float
    kind: Literal["money", "percent", "int", "number"]
    decimals: int = 2
    prefix: str = ""
    suffix: str = ""
    signed: bool = False

    def text(self, currency: str = "") -> str:
        """The figure as its cell shows it: "41,019.23 EUR", "NRR 104.3%", "+482.75 EUR", "3.8 months"."""
        v = float(self.value)
        digits = {"money": f"{abs(v):,.2f}", "percent": f"{abs(v):.1%}", "int": f"{abs(v):,.0f}"}.get(
            self.kind, f"{abs(v):,.{max(self.decimals, 0)}f}")
        shown_zero = not digits.strip("0.,%")
        sign = "" if shown_zero else "-" if v < 0 else "+" if self.signed else ""
        unit = f" {currency}" if self.kind == "money" and currency else ""
        return f"{self.prefix}{sign}{digits}{unit}{self.suffix}"


# The Period column of every month and quarter table (metrics.md 4): one definition for all of them.
PERIOD_DEFINITION = (
    "complete, or \"partial, to YYYY-MM-DD\" for the month (quarter) of as_of when as_of is not its last second: "
    "its snapshot is read at as_of and its flows and counts cover part of it, so it is not a whole period to "
    "compare with the others; verdicts, averages and benchmarks leave it out."
)


@dataclass(frozen=True)
class Chart:
    """A native chart drawn on the Dashboard from one tab's columns (x = first column named)."""

    title: str
    kind: Literal["line", "column", "stacked_column", "area"]
    x: str
    series: tuple[str, ...]
    rows: int | None = None  # data rows drawn (set by `Table.charts`: the partial period left out); None = all
    # a text column of the tab naming what the drawn values assume (e.g. a default spend): when a drawn row's names any
    # of `caveat_on` (any text at all when empty), the title says "(on assumed inputs)"
    caveat: str | None = None
    caveat_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColorScale:
    """A colour scale on a tab's data rows (conditional formatting, in every sink that has it): each cell is
    coloured from red through yellow to green by where it stands between the lowest and the highest value
    of its range, green at the good end (`good`: "high" for retention, "low" for churn).

    `columns`: declared columns, each a range of its own. `wide`: the tab's wide extra columns (e.g. cohort
    ages) as one range, so the cells of the grid compare with each other.
    """

    columns: tuple[str, ...] = ()
    wide: bool = False
    good: Literal["high", "low"] = "high"


@dataclass(frozen=True)
class Tab:
    """One published tab.

    `datasets`: the dataset kinds that produce it. `requires`: Context attributes that must not be
    None (e.g. "hr"); when one is None the tab is skipped and the reason is reported.
    `wide_kind`: the builder may return extra columns after the declared ones (e.g. cohort ages
    0, 1, 2, ...), all of this kind; "auto" takes each extra column's kind from its dtype
    (customer attributes: numbers stay numbers, text stays text).
    `volatile`: its content changes on every run (run time, run history); a sink that skips
    unchanged tabs rewrites it only along with a real change.
    `charts`: drawn on the Dashboard; `scales`: colour scales on its rate columns and grids (ColorScale).
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    build: Callable[[Context], pd.DataFrame]
    datasets: frozenset[str] = frozenset({"payments", "contracts"})
    requires: tuple[str, ...] = ()
    wide_kind: ColumnKind | Literal["auto"] | None = None
    charts: tuple[Chart, ...] = ()
    scales: tuple[ColorScale, ...] = ()
    volatile: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Table:
    """A built tab: its declaration, its columns (declared + wide extras) and its rows."""

    tab: Tab
    columns: tuple[Column, ...]
    frame: pd.DataFrame
    note: str | None = None

    @property
    def name(self) -> str:
        return self.tab.name

    @property
    def charts(self) -> tuple[Chart, ...]:
        """The tab's declared charts as every sink draws them: a trailing partial period (its Period column
        "partial, to ...", metrics.md 4) is left out of the drawn rows and the title says so, so no trend line
        ends in a month that looks like a collapse."""
        charts = self.tab.charts
        partial = self.partial_rows()
        if not charts or not partial.any():
            return tuple(self._caveated(c, len(self.frame)) for c in charts)
        complete = len(partial)
        while complete and partial[complete - 1]:
            complete -= 1
        if complete == len(partial):
            return tuple(self._caveated(c, complete) for c in charts)
        first = self.frame.iloc[complete, 0]
        label = first.strftime("%Y-%m") if isinstance(first, pd.Timestamp) else str(first)
        drawn = [self._caveated(c, complete) for c in charts]
        return tuple(dataclasses.replace(c, rows=complete, title=f"{c.title} (partial {label} not drawn)") for c in drawn)

    def partial_rows(self) -> np.ndarray:
        """Per row, is it a partial period (its Period cell "partial, to ...", metrics.md 4)? All False for a tab
        without a Period column. What the charts and the colour scales leave out."""
        if "Period" not in self.frame.columns:
            return np.zeros(len(self.frame), dtype=bool)
        return self.frame["Period"].astype("string").fillna("").str.startswith("partial").to_numpy(dtype=bool)

    def _caveated(self, chart: Chart, drawn: int) -> Chart:
        """The chart with "(on assumed inputs)" in its title when its caveat column names an assumption it rests on
        (`caveat_on`) in one of the `drawn` first rows."""
        if chart.caveat is None or chart.caveat not in self.frame.columns:
            return chart
        said = self.frame[chart.caveat].iloc[:drawn].astype("string").fillna("")
        hit = said.str.len().gt(0) if not chart.caveat_on else pd.concat(
            [said.str.contains(word, regex=False) for word in chart.caveat_on], axis=1).any(axis=1)
        if not hit.any():
            return chart
        return dataclasses.replace(chart, title=f"{chart.title} (on assumed inputs)")


@dataclass(frozen=True)
class InputFile:
    """One input file as read: for the About tab."""

    role: str
    path: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class RunInfo:
    """What the About tab says about the run itself. Filled by sync/, never read from a clock here."""

    version: str = "0"
    started_at: pd.Timestamp | None = None
    config_path: str = ""
    destination: str = ""
    settings: tuple[tuple[str, str], ...] = ()
    inputs: tuple[InputFile, ...] = ()


def empty_issues() -> pd.DataFrame:
    """Data-quality issues: one row per problem (file, line, field, reason, severity, value)."""
    return pd.DataFrame(
        {
            "file": pd.Series(dtype="object"),
            "line": pd.Series(dtype="Int64"),
            "field": pd.Series(dtype="object"),
            "reason": pd.Series(dtype="object"),
            "severity": pd.Series(dtype="object"),
            "value": pd.Series(dtype="object"),
        }
    )


@dataclass(frozen=True)
class Context:
    """Everything a builder may read. Derived frames are computed once, on first use.

    schedule: the canonical revenue schedule (see kpi.schedule.SCHEDULE_COLUMNS).
    customers: one row per customer_id, with its attributes.
    The derived frames come from the pure functions of kpi.mrr, kpi.cohorts and kpi.profile, which
    know nothing of Context (their tabs are declared in kpi.mrr_tabs, kpi.cohorts_tabs, kpi.profile_tabs).
    """

    dataset: str
    as_of: pd.Timestamp
    params: Params
    schedule: pd.DataFrame
    customers: pd.DataFrame
    issues: pd.DataFrame = field(default_factory=empty_issues)
    dropped: tuple[tuple[str, int], ...] = ()  # per input file, the lines dropped as bad (the Summary says so)
    run: RunInfo = field(default_factory=RunInfo)
    charges: pd.DataFrame | None = None
    billing: pd.DataFrame | None = None
    price_book: PriceBook | None = None  # the list prices the payment-log inference used (metrics.md 2b)
    contracts: pd.DataFrame | None = None
    one_shots: pd.DataFrame | None = None
    projects: pd.DataFrame | None = None
    hr: object | None = None
    unavailable: tuple[tuple[str, str], ...] = ()
    # Past runs for the Sync status tab (sync.guard.history_frame: started_at, seconds, destination, outcome,
    # tabs_changed, rows, mrr, customers, error), oldest first; None when the caller keeps no history.
    history: pd.DataFrame | None = None
    # The per-customer frames (customer months, ref months, paid revenue) when they were computed partition by
    # partition (kpi.partition.PerCustomer, combined): used as they are; None: computed here from the schedule.
    # Either way they are the same frames.
    per_customer: PerCustomer | None = None
    # Tables built so far (`table`): a tab another builder reads (the contract Summary reads seven) is built once.
    built: dict[str, Table] = field(default_factory=dict, init=False, compare=False, repr=False)  # not copied by replace()

    @property
    def timezone(self) -> str:
        return self.params.timezone

    @property
    def partial(self) -> bool:
        """True when as_of is not the last second of its month: that month (and its quarter) is partial (metrics.md 4)."""
        return not mrr.month_is_complete(self.as_of, self.params.timezone)

    def periods(self, starts: pd.Series | pd.DatetimeIndex, quarterly: bool = False) -> np.ndarray:
        """The Period column for these months (or quarters): "complete" or "partial, to <as_of's day>"."""
        return mrr.period_labels(starts, self.as_of, self.params.timezone, quarterly)

    @cached_property
    def customer_months(self) -> pd.DataFrame:
        if self.per_customer is not None:
            return self.per_customer.customer_months
        return mrr.customer_months(self.schedule, self.as_of, self.params.timezone)

    @cached_property
    def month_codes(self) -> CustomerCodes:
        """customer_months' customers as integer codes, row by row (kpi.schedule.CustomerCodes): the payment-log
        reading's own when it kept them, else the ids hashed here once. Tables group, sort and match customers on
        these, and turn them into ids only in the rows they publish."""
        codes = self.per_customer.month_codes if self.per_customer is not None else None
        if codes is not None and codes.fits(len(self.customer_months)):
            return codes
        return CustomerCodes.of(self.customer_months["customer_id"])

    @property
    def schedule_codes(self) -> Codes | None:
        """The schedule's customers and refs as integer codes, row by row (kpi.schedule.Codes), when the payment-log
        reading kept them; None otherwise."""
        codes = self.per_customer.codes if self.per_customer is not None else None
        return codes if codes is not None and len(codes.cust) == len(self.schedule) else None

    @cached_property
    def classified(self) -> mrr.Classified:
        """The customer months made dense, with each one's movement (kpi.mrr.classify): read once for the MRR tab
        and the Movements tab."""
        return mrr.classify(self.customer_months, self.month_codes)

    @cached_property
    def mrr_by_month(self) -> pd.DataFrame:
        return mrr.mrr_by_month(self.customer_months, self.classified)

    @cached_property
    def movements(self) -> pd.DataFrame:
        """The Movements tab's rows (kpi.mrr.movement_table, with the refs behind each movement), computed once for
        the tab and the invariant that checks them against the MRR tab."""
        if self.per_customer is not None:
            refs, codes = self.per_customer.ref_months, self.per_customer.ref_codes
        else:
            refs, codes = mrr.coded_ref_months(self.schedule, self.as_of, self.params.timezone)
        return mrr.movement_table(self.customer_months, refs, self.classified, codes)

    @cached_property
    def mrr_by_quarter(self) -> pd.DataFrame:
        """The quarters (kpi.mrr.mrr_by_quarter), their starting customers followed on the dense customer months the
        MRR tab was read from (the same sums: a month without a row is 0; in their order, no sort or search)."""
        dense = self.classified
        return mrr.mrr_by_quarter(self.mrr_by_month, dense.frame, CustomerCodes(dense.cust, dense.ids))

    @cached_property
    def cohorts(self) -> CohortMatrices:
        """kpi.cohorts.CohortMatrices of the run, computed once for every tab that reads cohorts (the cells read in
        a partial month of as_of left empty)."""
        return cohort_matrices(self.customer_months, as_of_month(self.as_of, self.timezone), partial=self.partial,
                               codes=self.month_codes)

    @cached_property
    def profile(self) -> pd.DataFrame:
        """The per-customer profile (kpi.profile.customer_profile), computed once for Segments, Core users and Summary.

        Lifetime revenue comes from the charges when there are any (kpi.mrr.lifetime_revenue).
        """
        month = as_of_month(self.as_of, self.timezone)
        return customer_profile(self.customers, self.customer_months, self.lifetime, month, self.params.segments,
                                last_interval(self.billing), self.month_codes, self.customer_ids, self.paying_months)

    @cached_property
    def customer_ids(self) -> pd.Index:
        """Every customer of the profile and the Customers tab (kpi.mrr.customer_ids), computed once for both."""
        return mrr.customer_ids(self.customers, self.customer_months, self.lifetime,
                                as_of_month(self.as_of, self.timezone), self.month_codes, self.paying_months)

    @cached_property
    def paying_months(self) -> mrr.PayingMonths | None:
        """Each customer's months with MRR by as_of (kpi.mrr.paying_months), read once for the Customers tab, the
        profile and the customer ids; None when customer_months is not one row per customer and month in code order
        (each then groups its rows)."""
        return mrr.paying_months(self.customer_months, self.month_codes, as_of_month(self.as_of, self.timezone))

    @cached_property
    def lifetime(self) -> pd.Series:
        """customer_id -> lifetime revenue (kpi.mrr.lifetime_revenue), computed once."""
        if self.per_customer is not None and self.charges is not None:
            return self.per_customer.paid
        return mrr.lifetime_revenue(self.charges, self.as_of, self.customer_months)

    def skip_reason(self, tab: Tab) -> str | None:
        if self.dataset not in tab.datasets:
            return f"not produced for {self.dataset} data"
        reasons = dict(self.unavailable)
        for attr in tab.requires:
            if getattr(self, attr) is None:
                return reasons.get(attr, f"no {attr} data")
        return None


def _kind_of(values: pd.Series) -> ColumnKind:
    """The column kind a free-form column's dtype calls for."""
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        return "int" if len(present) and (present % 1 == 0).all() else "number"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    return "text"


def built_table(tab: Tab, ctx: Context) -> Table:
    """The tab built for this context, once: `build_table` on first use, the same Table after (the run's
    publishing and a builder that reads another tab share it; no builder changes a frame it is given)."""
    if tab.name not in ctx.built:
        ctx.built[tab.name] = build_table(tab, ctx)
    return ctx.built[tab.name]


def build_table(tab: Tab, ctx: Context) -> Table:
    """Run a tab's builder and check its columns against the declaration."""
    frame = tab.build(ctx)
    declared = tab.column_names
    got = [str(c) for c in frame.columns]
    if got[: len(declared)] != declared:
        raise ValueError(f"tab {tab.name!r}: builder returned columns {got}, declared {declared}")
    extra = got[len(declared) :]
    if extra and tab.wide_kind is None:
        raise ValueError(f"tab {tab.name!r}: builder returned undeclared columns {extra}")
    kinds = [_kind_of(frame[c]) if tab.wide_kind == "auto" else (tab.wide_kind or "text") for c in extra]
    columns = tab.columns + tuple(Column(c, k) for c, k in zip(extra, kinds, strict=True))
    frame = frame.set_axis(got, axis=1).reset_index(drop=True)
    return Table(tab=tab, columns=columns, frame=frame)


# The reading order of the workbook: each module's TABS, in this order. Add a module here to publish its tabs.
TAB_MODULES: tuple[str, ...] = (
    "kpi.summary",
    "kpi.mrr_tabs",
    "kpi.cohorts_tabs",
    "kpi.economics",
    "kpi.profile_tabs",
    "kpi.portfolio",
    "kpi.availability",
    "kpi.quality",
    "kpi.syncstatus",
    "kpi.about",
)


def all_tabs() -> list[Tab]:
    """Every declared tab, in the order a reader should see them.

    Each kpi module declares its own `TABS`; this is the one place that orders them.
    """
    order: list[Tab] = []
    for name in TAB_MODULES:
        order.extend(importlib.import_module(name).TABS)
    names = [t.name for t in order]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"tabs declared twice: {sorted(dupes)}")
    return order
