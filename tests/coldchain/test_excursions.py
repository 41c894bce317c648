"""The excursion engine's rules, table by table, without a database.

Unless a case says otherwise: a 0–4 °C range, 15 min delay, 10 min recovery, 0.5 °C margin,
15 min signal timeout, one reading a minute. Times are minutes from T0.
"""

from datetime import UTC, datetime, timedelta

import pytest

from coldchain.choices import ExcursionKind, Severity
from coldchain.excursions import (
    CRITICAL,
    MAJOR,
    MINOR,
    TOO_COLD,
    TOO_WARM,
    Limits,
    MonitorState,
    evaluate,
    severity_for,
)

T0 = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
CHILLED = Limits(min_c=0.0, max_c=4.0)
# Bananas: chilling injury below about 12 °C, so the range's floor is the alarm that matters.
BANANAS = Limits(min_c=12.0, max_c=14.0)


def minute(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def steady(start: int, end: int, temperature_c: float, step: int = 1) -> list[tuple[int, float]]:
    """One reading every `step` minutes in [start, end)."""
    return [(m, temperature_c) for m in range(start, end, step)]


def alternating(start: int, end: int, low: float, high: float) -> list[tuple[int, float]]:
    return [(m, low if m % 2 == 0 else high) for m in range(start, end)]


def hovering(cycles: int, *, above: float, above_min: int, below: float, below_min: int):
    """Above the limit for `above_min` minutes, then below it for `below_min`, repeated."""
    points, m = [], 0
    for _ in range(cycles):
        points += steady(m, m + above_min, above)
        m += above_min
        points += steady(m, m + below_min, below)
        m += below_min
    return points


def run(points, limits=CHILLED, state=None):
    return evaluate(limits, state or MonitorState(), [(minute(m), t) for m, t in points])


def summary(evaluation) -> list[tuple]:
    """(kind, started, confirmed, ended) in minutes, ended None while open."""

    def minutes(moment):
        return None if moment is None else (moment - T0).total_seconds() / 60

    return [
        (e.kind, minutes(e.started_at), minutes(e.confirmed_at), minutes(e.ended_at))
        for e in evaluation.excursions
    ]


CASES = [
    pytest.param(
        steady(0, 30, 3.0) + steady(30, 40, 8.0) + steady(40, 120, 3.0),
        CHILLED,
        [],
        id="door-opening spike of 10 min shorter than the delay opens nothing",
    ),
    pytest.param(
        steady(0, 30, 3.0) + steady(30, 45, 8.0) + steady(45, 90, 3.0),
        CHILLED,
        [],
        id="outside for 14 min (15 readings) is still a spike",
    ),
    pytest.param(
        steady(0, 30, 3.0) + steady(30, 90, 8.0) + steady(90, 150, 3.0),
        CHILLED,
        [(TOO_WARM, 30, 45, 90)],
        id="sustained breach opens exactly one, closed after the recovery",
    ),
    pytest.param(
        steady(0, 30, 3.0) + steady(30, 200, 8.0),
        CHILLED,
        [(TOO_WARM, 30, 45, None)],
        id="still outside: one excursion, still open",
    ),
    pytest.param(
        alternating(0, 180, 3.9, 4.1),
        CHILLED,
        [],
        id="flapping around the limit every minute opens nothing",
    ),
    pytest.param(
        steady(0, 30, 6.0) + alternating(30, 300, 3.6, 4.4),
        CHILLED,
        [(TOO_WARM, 0, 15, None)],
        id="flapping around the limit after opening never closes it (margin)",
    ),
    pytest.param(
        hovering(8, above=4.5, above_min=20, below=3.4, below_min=6),
        CHILLED,
        [(TOO_WARM, 0, 15, None)],
        id="slow hovering: back inside for less than the recovery time does not close it",
    ),
    pytest.param(
        [*steady(0, 30, 8.0), (30, 3.0), (50, 3.0), (55, 3.0)],
        CHILLED,
        [(TOO_WARM, 0, 15, None)],
        id="a gap during the recovery never closes the excursion",
    ),
    pytest.param(
        [*steady(0, 30, 8.0), (30, 3.0), (50, 3.0), (55, 3.0), (60, 3.0)],
        CHILLED,
        [(TOO_WARM, 0, 15, 50)],
        id="after a gap the recovery restarts at the reading after it",
    ),
    pytest.param(
        [*steady(0, 30, 8.0), (30, 3.0), (180, 3.0)],
        CHILLED,
        [(TOO_WARM, 0, 15, None)],
        id="hours of silence then one good reading: still open",
    ),
    pytest.param(
        steady(0, 30, 8.0) + steady(30, 38, 3.0) + [(38, 3.8)] + steady(39, 60, 3.0),
        CHILLED,
        [(TOO_WARM, 0, 15, 39)],
        id="a reading inside the range but outside the margin resets the recovery",
    ),
    pytest.param(
        steady(0, 30, 8.0) + steady(30, 45, 3.8),
        CHILLED,
        [(TOO_WARM, 0, 15, None)],
        id="back in range but not by the margin: still open",
    ),
    pytest.param(
        steady(0, 20, 13.0) + steady(20, 60, 10.5) + steady(60, 100, 13.0),
        BANANAS,
        [(TOO_COLD, 20, 35, 60)],
        id="too cold for chilling-sensitive bananas",
    ),
    pytest.param(
        steady(0, 20, 13.0) + steady(20, 30, 11.0) + steady(30, 60, 13.0),
        BANANAS,
        [],
        id="a short cold spike for bananas opens nothing",
    ),
    pytest.param(
        steady(0, 20, 13.0) + steady(20, 60, 11.0) + steady(60, 80, 12.2) + steady(80, 120, 12.6),
        BANANAS,
        [(TOO_COLD, 20, 35, 80)],
        id="too cold closes only at min + margin",
    ),
    pytest.param(
        [(0, 6.0), (60, 6.0), (61, 3.0)],
        CHILLED,
        [(TOO_WARM, 0, 60, None)],
        id="outside before and after a gap with nothing in range between confirms",
    ),
    pytest.param(
        steady(0, 30, 8.0) + steady(30, 45, 3.0) + steady(45, 80, -2.0),
        CHILLED,
        [(TOO_WARM, 0, 15, 30), (TOO_COLD, 45, 60, None)],
        id="each direction on its own",
    ),
]


@pytest.mark.parametrize(("points", "limits", "expected"), CASES)
def test_excursions_open_and_close_by_the_rules(points, limits, expected):
    assert summary(run(points, limits)) == expected


@pytest.mark.parametrize(
    "points",
    [
        pytest.param(alternating(0, 600, 3.9, 4.1), id="every minute"),
        pytest.param(hovering(20, above=4.3, above_min=10, below=3.8, below_min=10), id="slow"),
        pytest.param(hovering(20, above=4.3, above_min=30, below=3.8, below_min=30), id="long"),
    ],
)
def test_hovering_around_the_limit_raises_at_most_one(points):
    """The alert-storm guard: whatever the rhythm around the limit, at most one excursion."""
    events = run(points).events
    assert [e.name for e in events if e.name != "severity_rose"] in ([], ["opened"])


def test_degree_minutes_and_severity_grow_with_time_outside():
    # 2 °C above the limit: 2 °C·min per minute, so MAJOR (60) at 30 min, CRITICAL (240) at 120.
    evaluation = run(steady(0, 200, 6.0))

    assert [
        (e.name, (e.at - T0).total_seconds() / 60, e.episode.severity) for e in evaluation.events
    ] == [
        ("opened", 15, MINOR),
        ("severity_rose", 30, MAJOR),
        ("severity_rose", 120, CRITICAL),
    ]
    [excursion] = evaluation.excursions
    assert excursion.degree_minutes == pytest.approx(2 * 199)
    assert excursion.severity == CRITICAL


def test_degree_minutes_count_only_the_part_beyond_the_limit():
    # 2 °C over for 30 min, then a straight line down to 2 °C (crossing the limit half way).
    evaluation = run([*steady(0, 31, 6.0), (32, 2.0)])
    [excursion] = evaluation.excursions
    # 30 min × 2 °C, plus the triangle 1 min × 2 °C / 2 above the limit.
    assert excursion.degree_minutes == pytest.approx(60 + 1)


def test_a_gap_does_not_inflate_degree_minutes():
    # Two readings 2 °C over, an hour apart: counted for the signal timeout (15 min) only.
    [excursion] = run([(0, 6.0), (60, 6.0)]).excursions
    assert excursion.degree_minutes == pytest.approx(2 * 15)


def test_peak_is_the_worst_reading_of_the_breach():
    points = [*steady(0, 10, 5.0), (10, 9.5), *steady(11, 40, 6.0), *steady(40, 60, 3.0)]
    [excursion] = run(points).excursions
    assert excursion.peak_c == 9.5
    [cold] = run([*steady(0, 30, -3.0), (30, -4.2), *steady(31, 40, -1.0)]).excursions
    assert cold.peak_c == -4.2


def test_opened_and_closed_events_once_each():
    # 4 °C over: 60 °C·min when confirmed after 15 min, so it opens as MAJOR.
    evaluation = run(steady(0, 30, 3.0) + steady(30, 90, 8.0) + steady(90, 150, 3.0))
    assert [
        (e.name, (e.at - T0).total_seconds() / 60, e.episode.severity) for e in evaluation.events
    ] == [("opened", 45, MAJOR), ("closed", 100, MAJOR)]
    assert evaluation.excursions[0].closed_at == minute(100)


@pytest.mark.parametrize("split", [1, 7, 15, 16, 44, 45, 46, 89, 95, 100, 149])
def test_batches_carried_through_the_stored_state_judge_like_one_run(split):
    points = steady(0, 30, 3.0) + steady(30, 90, 8.0) + steady(90, 150, 3.0)
    whole = run(points)

    first = run(points[:split])
    stored = MonitorState.from_json(first.state.to_json())  # through the JSON column
    second = run(points[split:], state=stored)

    latest = {e.started_at: e for e in first.excursions + second.excursions}
    assert [(e.started_at, e.confirmed_at, e.ended_at) for e in latest.values()] == [
        (e.started_at, e.confirmed_at, e.ended_at) for e in whole.excursions
    ]
    assert [e.degree_minutes for e in latest.values()] == pytest.approx(
        [e.degree_minutes for e in whole.excursions]
    )
    assert second.state.to_json() == whole.state.to_json()


def test_evaluate_leaves_the_given_state_alone():
    state = run(steady(0, 20, 8.0)).state
    before = state.to_json()
    run(steady(20, 60, 3.0), state=state)
    assert state.to_json() == before


def test_engine_names_match_the_models_choices():
    assert (TOO_WARM, TOO_COLD) == (ExcursionKind.TOO_WARM, ExcursionKind.TOO_COLD)
    assert (MINOR, MAJOR, CRITICAL) == (Severity.MINOR, Severity.MAJOR, Severity.CRITICAL)


@pytest.mark.parametrize(
    ("degree_minutes", "severity"),
    [(0, MINOR), (59.9, MINOR), (60, MAJOR), (239.9, MAJOR), (240, CRITICAL), (5000, CRITICAL)],
)
def test_severity_thresholds(degree_minutes, severity):
    assert severity_for(degree_minutes) == severity
