"""`manage.py simulate_loggers`: realistic readings, posted through the real HTTP API of a
running ASGI server, land in the database and raise exactly the alerts the scenario holds."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from accounts import demo as accounts_demo
from coldchain import demo
from coldchain.choices import AlertKind, ExcursionKind
from coldchain.management.commands import simulate_loggers as simulator
from coldchain.models import Alert, DataLogger, Reading, Shipment, Vehicle
from coldchain.services.registry import hash_logger_secret
from farms import demo as farms_demo
from marketplace.markets import demo as markets_demo
from marketplace.markets import services as markets

# --- The readings themselves (no server) ----------------------------------------------------

START = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


def _truck(**overrides) -> simulator.SimulatedLogger:
    values = {
        "device_id": "DEMO-TRUCK-9",
        "secret": "x",
        "subject": "shipment test",
        "setpoint": 8.5,  # sweet peppers, 7–10 °C
        "humidity": 92.5,
        "watched_since": START,
        "seed": 7,
        "doors": simulator.TRUCK_DOORS,
        "route": [(118.70, 36.92), (116.37, 39.78)],
        "trip": (START, START + timedelta(hours=7)),
    }
    return simulator.SimulatedLogger(**{**values, **overrides})


def _minutes(hours: float) -> list[datetime]:
    return [START + timedelta(minutes=m) for m in range(int(hours * 60))]


def _longest_outside(readings: list[dict], low: float, high: float) -> int:
    """The longest run of consecutive minutes outside [low, high]."""
    longest = run = 0
    for row in readings:
        run = run + 1 if not low <= row["temperature_c"] <= high else 0
        longest = max(longest, run)
    return longest


def test_the_same_seed_gives_the_same_readings_and_another_seed_others():
    moments = _minutes(2)
    first = [_truck().reading(m) for m in moments]
    assert first == [_truck().reading(m) for m in moments]
    assert first != [_truck(seed=8).reading(m) for m in moments]


def test_a_day_stays_in_range_but_for_door_openings_shorter_than_the_excursion_delay():
    truck = _truck(doors=simulator.Doors(hours=(0, 24), chance=0.5, longest=120))
    readings = [truck.reading(m) for m in _minutes(24)]
    temperatures = [r["temperature_c"] for r in readings]
    assert 7.5 < sum(temperatures) / len(temperatures) < 9.5
    assert max(temperatures) - min(temperatures) > 0.5  # it moves: cycle, day, noise, doors
    assert any(t < 7 for t in temperatures)  # doors opened on cold air...
    assert _longest_outside(readings, 7, 10) < demo.DEMO_EXCURSION_DELAY_MINUTES  # ...briefly
    store = _truck(
        device_id="DEMO-STORE-1",
        setpoint=2.0,
        route=None,
        trip=None,
        doors=simulator.STORE_DOORS["DEMO-STORE-1"],
    )
    readings = [store.reading(m) for m in _minutes(24)]
    assert _longest_outside(readings, 0, 4) < demo.STORE_EXCURSION_DELAY_MINUTES
    assert "latitude" not in readings[0]


def test_a_compressor_failure_stays_out_of_range_longer_than_the_delay_then_recovers():
    failure = simulator.live_fault(START, 60)
    truck = _truck(doors=None, faults=[failure])
    readings = [truck.reading(START + timedelta(seconds=30 * n)) for n in range(80)]
    above = [r for r in readings if r["temperature_c"] > 10]
    assert len(above) * 0.5 > demo.DEMO_EXCURSION_DELAY_MINUTES + 5
    assert max(r["temperature_c"] for r in readings) > 14
    assert readings[-1]["temperature_c"] < 9.5  # back, by the recovery margin
    assert failure.over_by < START + timedelta(seconds=30 * 80)


def test_a_truck_moves_along_its_road_and_its_battery_runs_down():
    truck = _truck()
    start, middle, end = (truck.reading(START + timedelta(hours=h)) for h in (0, 3.5, 7))
    assert (start["longitude"], start["latitude"]) == pytest.approx((118.70, 36.92), abs=1e-3)
    assert (end["longitude"], end["latitude"]) == pytest.approx((116.37, 39.78), abs=1e-3)
    assert 116.37 < middle["longitude"] < 118.70
    assert 36.92 < middle["latitude"] < 39.78
    assert start["battery_pct"] > end["battery_pct"]


# --- Through a running server ---------------------------------------------------------------


@pytest.fixture
def demo_seeded(transactional_db, settings, tmp_path):
    """The cold chain's demo on the demo people, farms and 新发地 (without the market's month
    of trades, which the simulator does not need: test_demo.py seeds it all)."""
    settings.MEDIA_ROOT = tmp_path  # the loading handovers' logger records
    context: dict = {}
    accounts_demo.seed(context)
    farms_demo.seed(context)
    context["market"] = markets.create_market(
        code=markets_demo.MARKET_CODE, name=markets_demo.MARKET_NAME, city="北京"
    )
    markets.add_staff(market=context["market"], user=context["people"]["operator"])
    demo.seed(context)


def _simulate(url: str, *extra: str) -> str:
    out = StringIO()
    call_command(
        "simulate_loggers",
        "--once",
        "--force",
        "--url",
        url,
        "--wait-healthy",
        "0",
        "--backfill-hours",
        "2",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def _excursion_alerts() -> list[tuple[str, str]]:
    return sorted(
        Alert.objects.filter(kind=AlertKind.EXCURSION).values_list(
            "shipment__vehicle__plate", "excursion__kind"
        )
    )


@pytest.mark.django_db(transaction=True)
def test_once_posts_the_backfill_and_a_live_round_and_the_past_faults_raise_one_alert_each(
    demo_seeded, asgi_server
):
    started = timezone.now()
    out = _simulate(asgi_server)

    now = timezone.now()
    counts = dict(
        Reading.objects.values_list("logger__device_id").annotate(n=Count("*")).order_by()
    )
    # Stores: two hours, a reading a minute, and the live one; trucks: the whole trip so far.
    for spec in demo.STORES:
        assert 120 <= counts[spec.logger.device_id] <= 123
    for spec in demo.VEHICLES:
        shipment = Shipment.objects.get(vehicle__plate=spec.plate)
        minutes = (now - shipment.departed_at).total_seconds() / 60
        assert minutes - 2 <= counts[spec.logger.device_id] <= minutes + 3
    # The live round: one reading per logger just now.
    assert Reading.objects.filter(recorded_at__gte=started.replace(microsecond=0)).count() >= 7
    assert (
        DataLogger.objects.filter(last_reading_at__gte=started - timedelta(seconds=1)).count() == 7
    )
    # The trucks moved to where their last reading put them.
    for vehicle in Vehicle.objects.all():
        assert vehicle.last_position_at >= started - timedelta(seconds=1)

    # The apple truck's compressor failure and the cucumber truck's cold spell: one alert each,
    # however many readings; the door openings raised nothing.
    assert _excursion_alerts() == sorted(
        [("陕J6T205", ExcursionKind.TOO_WARM), ("鲁V3K618", ExcursionKind.TOO_COLD)]
    )
    assert all(alert.excursion.ended_at is not None for alert in Alert.objects.all())
    assert "compressor failure" in out
    assert "DEMO-STORE-1" in out

    # Again: the backfill is all duplicates, nothing more is raised.
    out = _simulate(asgi_server)
    assert "0 stored" in out
    assert _excursion_alerts() == sorted(
        [("陕J6T205", ExcursionKind.TOO_WARM), ("鲁V3K618", ExcursionKind.TOO_COLD)]
    )


@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_is_reported_and_the_others_go_on(demo_seeded, asgi_server):
    logger = DataLogger.objects.get(device_id="DEMO-STORE-3")
    logger.secret_hash = hash_logger_secret("changed")
    logger.save(update_fields=["secret_hash"])

    out = _simulate(asgi_server)

    assert re.search(r"DEMO-STORE-3: 12\d readings refused: HTTP 401", out)
    assert not Reading.objects.filter(logger=logger).exists()
    assert Reading.objects.filter(logger__device_id="DEMO-STORE-1").exists()


@pytest.mark.django_db(transaction=True)
def test_a_server_that_never_answers_is_given_up_on_with_once(demo_seeded):
    with pytest.raises(CommandError, match="does not answer"):
        _simulate("http://127.0.0.1:9", "--retry-for", "2")


def test_without_the_demo_once_says_to_seed_it(db):
    with pytest.raises(CommandError, match="seed_demo"):
        _simulate("http://127.0.0.1:9")
