"""The Core users and Segments tabs: their columns and builders, from the per-customer profile of kpi.profile.

Declared here rather than in kpi/profile.py so that kpi.tables.Context can compute the profile
with kpi.profile without kpi.profile importing Context back.
"""

from __future__ import annotations

import pandas as pd

from kpi.profile import core_users, segments
from kpi.tables import Column, Context, Tab


def _build_segments(ctx: Context) -> pd.DataFrame:
    return segments(ctx.profile, ctx.params.segments)


def _build_core(ctx: Context) -> pd.DataFrame:
    return core_users(ctx.profile)


TABS: list[Tab] = [
    Tab(
        name="Core users",
        description=(
            "The top quarter of customers by lifetime revenue (at or above the 75th percentile) beside "
            "everyone else: how many, their share of MRR and revenue, and their median seats, sessions, "
            "sessions per seat, tenure and billing interval. Unknown attributes are left out of the medians "
            "and counted in Seats unknown."
        ),
        columns=(
            Column("Group", "text", "Core users (top quarter by lifetime revenue), everyone else, or all customers"),
            Column("Customers", "int", "Customers in the group (every customer with attributes, MRR or revenue)"),
            Column("Share of customers", "percent", "The group's customers / all customers"),
            Column("Active customers", "int", "Customers with MRR > 0 at as_of"),
            Column("MRR", "money", "Their MRR at as_of"),
            Column("Share of MRR", "percent", "The group's MRR / all MRR at as_of"),
            Column("Lifetime revenue", "money", "Sum of positive charges up to as_of"),
            Column("Share of lifetime revenue", "percent", "The group's lifetime revenue / everyone's"),
            Column("Median lifetime revenue", "money", "The median customer's lifetime revenue"),
            Column("Median seats", "count", "Over customers whose seat count is known"),
            Column("Seats unknown", "int", "Customers with no seat count"),
            Column("Median sessions", "count", "Web sessions, over customers whose count is known"),
            Column("Median sessions per seat", "number", "Sessions / seats, over customers with both known"),
            Column("Median tenure (months)", "count", "Months with MRR > 0, over customers ever active"),
            Column("Annual plan share", "percent",
                   "Share billed annually, by each customer's latest series or term (see Billing)"),
        ),
        build=_build_core,
        datasets=frozenset({"payments"}),
    ),
    Tab(
        name="Segments",
        description=(
            "Customers by seat count (buckets: setting segments.seat_buckets) and by sessions per seat "
            "(quantile groups): size, MRR, retention, tenure and lifetime revenue per segment. Customers "
            "with a missing attribute are in that dimension's \"unknown\" row."
        ),
        columns=(
            Column("Dimension", "text", "What the customers are split by: Seats or Sessions per seat"),
            Column("Segment", "text", "The bucket (seats) or quantile group (sessions per seat); unknown: attribute missing"),
            Column("Customers", "int", "Customers in the segment (every customer with attributes, MRR or revenue)"),
            Column("Share of customers", "percent", "The segment's customers / all customers"),
            Column("Active customers", "int", "Customers with MRR > 0 at as_of"),
            Column("MRR", "money", "MRR at as_of"),
            Column("Share of MRR", "percent", "The segment's MRR / all MRR at as_of"),
            Column("Average MRR", "money", "MRR / active customers"),
            Column("Logo retention", "percent", "Active customers / customers ever active"),
            Column("Average tenure (months)", "number", "Months with MRR > 0, over customers ever active"),
            Column("Lifetime revenue", "money", "Sum of positive charges up to as_of"),
        ),
        build=_build_segments,
        datasets=frozenset({"payments"}),
    ),
]
