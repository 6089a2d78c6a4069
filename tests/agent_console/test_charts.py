"""The server-drawn SVG charts: pure functions, no app, no browser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from agent_console.charts import Series, axis_top, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def bar_xs(markup) -> list[float]:
    return [float(rect.get("x")) for rect in parsed(markup).iter(f"{SVG}rect")]


@pytest.mark.parametrize("value, top", [(0, 4), (1, 4), (3, 4), (5, 8), (12, 20), (35, 40), (41, 80), (400, 400)])
def test_a_count_axis_has_four_round_whole_steps(value, top):
    assert axis_top(value) == top


@pytest.mark.parametrize("value, top", [(0, 1), (0.3, 0.4), (0.9, 2), (1, 2)])
def test_a_fraction_axis_may_step_below_one(value, top):
    assert axis_top(value, whole=False) == pytest.approx(top)


def test_bars_run_left_to_right_or_mirrored_for_right_to_left():
    labels = ["00", "01", "02"]
    series = [Series("Offered", [1, 2, 3])]
    assert bar_xs(bar_chart("Calls", labels, series)) == sorted(bar_xs(bar_chart("Calls", labels, series)))
    mirrored = bar_xs(bar_chart("Calls", labels, series, rtl=True))
    assert mirrored == sorted(mirrored, reverse=True)


def test_each_bar_says_what_it_shows_and_zero_draws_nothing():
    series = [Series("Offered", [3, 0]), Series("Answered", [2, 0], "second")]
    chart = parsed(bar_chart("Calls per hour", ["09", "10"], series))
    assert chart.get("role") == "img" and chart.get("aria-label") == "Calls per hour"
    titles = [t.text for t in chart.iter(f"{SVG}title")]
    assert titles == ["Calls per hour", "09 · Offered: 3", "09 · Answered: 2"]


def test_words_are_escaped():
    chart = str(bar_chart("<b>", ["<x>"], [Series("a&b", [1])]))
    assert "<b>" not in chart and "&lt;x&gt;" in chart and "a&amp;b" in chart
    parsed(chart)  # still well-formed


def test_a_line_has_gaps_where_nothing_was_measured():
    chart = parsed(
        line_chart(
            "Service level",
            ["1", "2", "3", "4", "5"],
            Series("SL", [0.5, 0.8, None, 0.9, 1.0]),
            fmt=lambda v: f"{v:.0%}",
        )
    )
    lines = list(chart.iter(f"{SVG}polyline"))
    assert len(lines) == 2 and all(len(line.get("points").split()) == 2 for line in lines)
    assert len(list(chart.iter(f"{SVG}circle"))) == 4
    assert [t.text for t in chart.iter(f"{SVG}text")][:5] == ["0%", "25%", "50%", "75%", "100%"]


def test_an_empty_chart_is_still_a_chart():
    chart = parsed(bar_chart("Nothing", [], []))
    assert chart.tag == f"{SVG}svg" and re.match(r"0 0 \d+ \d+", chart.get("viewBox"))
