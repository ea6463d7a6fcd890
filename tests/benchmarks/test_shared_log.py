"""benchmarks/shared_log.py's report: churned MRR as each month end published it, beside the full reading."""

from __future__ import annotations

from tests.benchmarks import load


def test_the_report_sums_the_churn_each_month_end_published_over_complete_months_only() -> None:
    """Two complete months (published 100 and 126 against 100 and 0 in the full log) and a partial one, whose churn
    is in neither total: 226.00 against 100.00, +126.0%."""
    month = {"mrr": 1000.0, "new_mrr": 0.0, "churned_customers": 1}
    fig = {
        "as_of": "2017-03-10 00:00:00", "mrr": 1000.0, "customers": 10, "billing_rows": {},
        "one_month_terms": 0, "one_month_terms_provisional": 0, "one_month_amounts": {}, "summary": [],
        "by_month": [{**month, "month": "2017-01", "churned_mrr": 100.0}, {**month, "month": "2017-02", "churned_mrr": 0.0},
                     {**month, "month": "2017-03", "churned_mrr": 50.0}],
        "month_end_readings": [
            {"month": m, "at_month_end": 1000.0, "high_pct": 0.0, "customers_restated": 0, "restated_mrr": 0.0,
             "churned_customers_at_month_end": 1, "churned_mrr_at_month_end": c}
            for m, c in (("2017-01", 100.0), ("2017-02", 126.0))],
    }
    text = load("shared_log").markdown(fig)
    assert "| 2017-02 | 1,000.00 | 0.00 | 0.00 | 1 | 1,000.00 | +0.0% | 0 (0.00) | 126.00 |" in text
    assert "| 2017-03 | 1,000.00 | 0.00 | 50.00 | 1 | (partial month) |  |  |  |" in text
    assert "as each month end published it: 226.00, against 100.00 in the full log (+126.0%)." in text
