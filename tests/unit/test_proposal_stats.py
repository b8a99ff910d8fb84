"""Monthly proposal figures: counts, medians, satisfaction; the chart's geometry."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from portal.proposals.stats import Row, bar_chart, monthly, nice_ceiling, tick_values

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)


def test_months_are_beijing_months():
    # 31 Jan 20:00 UTC is 1 Feb 04:00 in Beijing
    rows = [Row(created_at=datetime(2026, 1, 31, 20, 0, tzinfo=UTC), state="collect")]
    months, total = monthly(rows, 2026)
    assert months[0].received == 0 and months[1].received == 1 and total.received == 1


def test_counts_medians_and_satisfaction():
    t = datetime(2026, 3, 5, 9, 0, tzinfo=SH)
    rows = [
        Row(t, "closed", t + H, t + 2 * H, t + 30 * H, "satisfied", False),
        Row(t, "closed", t + H, t + 5 * H, t + 50 * H, "unsatisfied", True),
        Row(t, "closed", t + H, t + 30 * H, t + 70 * H, "no_reply", True),
        Row(t, "rejected"),
        Row(t, "accepted", t + H),
        Row(datetime(2025, 12, 31, 12, 0, tzinfo=SH), "closed"),  # another year: left out
    ]
    months, total = monthly(rows, 2026)
    march = months[2]
    assert (march.received, march.accepted, march.resolved, march.rejected, march.overdue) == (
        5,
        4,
        3,
        1,
        2,
    )
    assert march.median_first_response == 4 * H  # 1, 4, 29 hours -> 4
    assert march.median_resolution == 50 * H
    assert march.satisfaction == Fraction(1, 2)  # no_reply is not a verdict
    assert total.received == 5
    assert months[0].median_first_response is None and months[0].satisfaction is None


def test_tick_values_are_evenly_spaced():
    assert tick_values(1) == [0, 1]
    assert tick_values(2) == [0, 1, 2]
    assert tick_values(5) == [0, 1, 2, 3, 4, 5]
    assert tick_values(10) == [0, 2, 4, 6, 8, 10]
    assert tick_values(20) == [0, 5, 10, 15, 20]
    assert tick_values(50) == [0, 10, 20, 30, 40, 50]
    assert tick_values(200) == [0, 50, 100, 150, 200]


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 6, 11, 99, 101)] == [1, 1, 2, 5, 10, 20, 100, 200]


def test_chart_bars_scale_to_the_top():
    t = datetime(2026, 3, 5, 9, 0, tzinfo=SH)
    rows = [Row(t, "closed", resolved_at=t + H)] * 4 + [Row(t, "collect")]
    months, _ = monthly(rows, 2026)
    chart = bar_chart(months)
    assert len(chart.bars) == 24
    received = [b for b in chart.bars if b.series == "received" and b.label == "2026-03"][0]
    resolved = [b for b in chart.bars if b.series == "resolved" and b.label == "2026-03"][0]
    assert received.value == 5 and resolved.value == 4
    assert received.y == 10  # the top of the plot: 5 is the axis maximum
    assert resolved.height < received.height
    assert all(b.height == 0 for b in chart.bars if b.label != "2026-03")
    assert [t.value for t in chart.ticks] == [0, 1, 2, 3, 4, 5]
    assert chart.ticks[-1].y == received.y and chart.ticks[0].y == chart.bottom
