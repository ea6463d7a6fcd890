"""A publish too large for one request: hidden staging tabs, then one atomic switch; readers never see a mix."""

from __future__ import annotations

import pytest

from sync.errors import PublishError
from tests.fakes.sheets import Fault
from tests.sync.sinks.gsheet_tables import customers_table, empty_table, mrr_table, table

LIMIT = 9000  # bytes per request: small, so a few small tabs need several requests


def old_tables():
    return [mrr_table(months=12), customers_table(), empty_table()]


def new_tables():
    many = table("Customers", [("customer_id", "text"), ("note", "text")], [[f"c{i}", "y" * 30] for i in range(150)])
    return [mrr_table(months=14, bump=5.0), many, empty_table()]


def test_the_fake_fails_any_one_numbered_request(fake, make_sink):
    """fail_request answers the n-th batchUpdate with the fault and lets the others through."""
    fake.fail_request("batchUpdate", 2, Fault(400, message="second"))
    with pytest.raises(PublishError, match="second.*no visible tab changed"):
        make_sink(max_request_bytes=LIMIT).publish(old_tables())
    assert [c.status for c in fake.calls if c.kind == "batchUpdate"] == [200, 400]


def test_the_switch_keeps_every_visible_tab_and_its_sheet_id(fake, make_sink):
    """After a staged publish the visible tabs hold the new content under their old sheet ids, and no staging tab is left."""
    make_sink().publish(old_tables())
    ids = fake.sheet_ids()
    hand = fake.add_by_hand("My sums", values={(0, 0): "=SUM('MRR'!B2:B13)"})
    make_sink(max_request_bytes=LIMIT).publish(new_tables())
    assert len(fake.bodies()) > 3  # 1 first publish + staging requests + the switch
    after = fake.sheet_ids()
    assert {name: after[name] for name in ids} == ids and after["My sums"] == hand
    assert not [t for t in fake.titles() if t.startswith("kpi-sync staging")]
    assert [r[0] for r in fake.values("Customers")[1:]] == [f"c{i}" for i in range(150)]
    assert fake.cell("Customers", 0, 0)["userEnteredFormat"]["textFormat"]["bold"]  # the header came with the switch
    assert fake.values("MRR")[14][1] == 2305.0


@pytest.mark.parametrize("status", [400, 503])
def test_a_failure_at_any_request_leaves_the_visible_workbook_untouched(fake, make_sink, status):
    """Whichever request of a staged publish fails (for good), readers still see the whole old workbook; the next run
    deletes the staging tabs left and publishes the whole new one."""
    make_sink().publish(old_tables())
    old_book = fake.snapshot()
    old_view = fake.visible()
    start = fake.count("batchUpdate")
    make_sink(max_request_bytes=LIMIT).publish(new_tables())
    needed = fake.count("batchUpdate") - start
    new_view = fake.visible()
    assert needed >= 3 and new_view != old_view
    for n in range(1, needed + 1):
        fake.book = fake.snapshot_of(old_book)
        first = fake.count("batchUpdate")
        faults = [Fault(status, message="boom")] * (1 if status == 400 else 10)  # 503: every retry fails too
        for k, fault in enumerate(faults):
            fake.fail_request("batchUpdate", first + n + k, fault)
        with pytest.raises(PublishError):
            make_sink(max_request_bytes=LIMIT).publish(new_tables())
        assert fake.visible() == old_view, f"request {n} of {needed} failed and readers saw a mix"
        fake.numbered.clear()
        make_sink(max_request_bytes=LIMIT).publish(new_tables())
        assert fake.visible() == new_view
        assert not [t for t in fake.titles() if t.startswith("kpi-sync staging")]


def test_a_switch_that_landed_but_answered_5xx_is_not_redone(fake, make_sink):
    """When the final switch lands but Google answers 503, the re-read shows it done: nothing is staged again."""
    make_sink().publish(old_tables())
    start = fake.count("batchUpdate")
    plan = make_sink(max_request_bytes=LIMIT).plan(new_tables())
    fake.fail_request("batchUpdate", start + len(plan.batches), Fault(503, apply=True))
    make_sink(max_request_bytes=LIMIT).publish(new_tables())
    assert fake.count("batchUpdate") == start + len(plan.batches)
    assert [r[0] for r in fake.values("Customers")[1:]] == [f"c{i}" for i in range(150)]
