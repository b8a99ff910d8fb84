"""The trend chart's geometry: 0–100 mapped into the plot, unrated periods as gaps, labels
thinned out when there are many periods."""

from decimal import Decimal

from portal.ratings.service import trend_chart

D = Decimal


def test_scores_map_onto_the_plot_and_thresholds_are_lines():
    chart = trend_chart([("a", "A", D("100")), ("b", "B", D("0"))], D("90"), D("60"))
    top, bottom = chart.gridlines[-1][0], chart.gridlines[0][0]
    assert [p.y for p in chart.points] == [top, bottom]
    assert bottom > chart.black_y > chart.red_y > top
    assert chart.points[0].x == chart.x0 and chart.points[-1].x == chart.x1


def test_an_unrated_period_is_a_gap_not_a_zero():
    chart = trend_chart(
        [("a", "A", D("80")), ("b", "B", None), ("c", "C", D("70"))], D("90"), D("60")
    )
    assert len(chart.polyline.split()) == 2
    assert chart.points[1].value is None


def test_a_single_period_sits_in_the_middle():
    chart = trend_chart([("a", "A", D("75"))], D("90"), D("60"))
    assert chart.points[0].x == (chart.x0 + chart.x1) / 2


def test_many_periods_label_every_few_and_the_last():
    chart = trend_chart([(str(i), str(i), D("70")) for i in range(12)], D("90"), D("60"))
    labelled = [i for i, p in enumerate(chart.points) if p.labelled]
    assert labelled == [0, 3, 6, 9, 11]


def test_high_values_are_labelled_below_the_point():
    chart = trend_chart([("a", "A", D("95")), ("b", "B", D("50"))], D("90"), D("60"))
    assert chart.points[0].label_y > chart.points[0].y
    assert chart.points[1].label_y < chart.points[1].y
