"""The shipment pages on a phone: the list, planning (with the mixed-load confirmation), the
shipment page with its live chart, lots, handovers and alerts, the handover form and the record
download; every role's limits on every page."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from coldchain.choices import AlertKind, ShipmentStatus
from coldchain.models import Alert, Handover, LotCondition, Shipment
from coldchain.services.handovers import record_handover
from coldchain.services.registry import assign_logger
from tests.accounts.factories import UserFactory
from tests.coldchain.shipment_factories import NEW, add_readings, plan_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "in_english")]

LIST = "/coldchain/shipments/"
OUTSIDERS = [Role.FARMER, Role.COURIER, Role.CONSUMER, Role.BUYER]


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def detail(shipment) -> str:
    return f"{LIST}{shipment.pk}/"


def test_urls_have_their_names():
    assert reverse("coldchain:shipment_list") == LIST
    assert reverse("coldchain:shipment_create") == NEW
    assert reverse("coldchain:shipment_detail", args=[7]) == "/coldchain/shipments/7/"
    assert reverse("coldchain:handover", args=[7, "loading"]) == (
        "/coldchain/shipments/7/handover/loading/"
    )


# --- Every role's limits ----------------------------------------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_other_roles_get_403_on_every_page(role, shipment):
    client = page_as(UserFactory(role=role))

    answers = [
        client.get(LIST),
        client.get(NEW),
        client.post(NEW, {}),
        client.get(detail(shipment)),
        client.post(f"{detail(shipment)}cancel/"),
        client.get(f"{detail(shipment)}handover/unloading/"),
        client.post(f"{detail(shipment)}handover/unloading/", {}),
        client.get(f"{detail(shipment)}handover/loading/record/"),
    ]

    assert [answer.status_code for answer in answers] == [403] * len(answers)


def test_visitors_are_sent_to_sign_in(client, shipment):
    answer = client.get(detail(shipment))

    assert answer.status_code == 302
    assert "next=" in answer["Location"]


@pytest.mark.parametrize("who", ["manager", "market_staff"])
def test_another_ones_shipment_is_not_found_on_any_page(request, who, other_shipment):
    client = page_as(request.getfixturevalue(who))

    answers = [
        client.get(detail(other_shipment)),
        client.post(f"{detail(other_shipment)}cancel/"),
        client.get(f"{detail(other_shipment)}handover/unloading/"),
        client.post(
            f"{detail(other_shipment)}handover/unloading/",
            {"probe_temperature_c": "2", "decision": "accepted"},
        ),
        client.get(f"{detail(other_shipment)}handover/unloading/record/"),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert not Handover.objects.exists()


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_ones_own_shipments_coloured_by_status(
    manager, shipment, other_shipment, planned
):
    answer = page_as(manager).get(LIST)

    html = answer.content.decode()
    assert answer.status_code == 200
    assert shipment.code in html
    assert planned.code in html
    assert other_shipment.code not in html
    assert 'class="badge shipment-in_transit"' in html
    assert 'class="badge shipment-planned"' in html
    assert f'href="{detail(shipment)}"' in html


def test_a_controller_lists_everything_and_filters_by_status(
    coldchain_controller, shipment, other_shipment, planned
):
    client = page_as(coldchain_controller)

    everything = client.get(LIST).content.decode()
    waiting = client.get(LIST, {"status": "planned"}).content.decode()

    assert {shipment.code, other_shipment.code, planned.code} <= set(
        re.findall(
            r"data-shipment=\"\d+\">\s*<div class=\"shipment-head\">\s*<a [^>]+>([^<]+)<",
            everything,
        )
    )
    assert planned.code in waiting
    assert shipment.code not in waiting


# --- Planning ---------------------------------------------------------------------------------


def test_the_plan_form_offers_sites_lots_and_times(manager, packhouse, market_site, lot_of):
    lot = lot_of("VEG-LETTUCE")

    html = page_as(manager).get(NEW).content.decode()

    assert 'name="origin"' in html
    assert packhouse.name in html
    assert market_site.name in html
    assert 'type="datetime-local"' in html
    assert 'name="lots-0-lot_code"' in html
    assert f'<option value="{lot.lot_code}">' in html


def test_a_manager_plans_a_shipment_from_her_phone(manager, packhouse, market_site, lot_of):
    lot = lot_of("VEG-LETTUCE")

    answer = page_as(manager).post(NEW, plan_form(packhouse, market_site, [(lot, "150")]))

    shipment = Shipment.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == detail(shipment)
    assert shipment.status == ShipmentStatus.PLANNED
    assert shipment.lots.get().quantity_kg == 150
    assert shipment.planned_by == manager
    # Read in Beijing time: what the phone showed is what was planned.
    assert timezone.localtime(shipment.planned_departure_at).hour == (
        (timezone.localtime() + timedelta(hours=2)).hour
    )


def test_an_awkward_mix_is_shown_and_planned_anyway(
    coldchain_controller, packhouse, market_site, lot_of
):
    client = page_as(coldchain_controller)
    data = plan_form(
        packhouse, market_site, [(lot_of("FRT-MANGO"), "10"), (lot_of("VEG-TOMATO"), "10")]
    )

    asked = client.post(NEW, data)
    anyway = client.post(NEW, {**data, "accept_warnings": "1"})

    html = asked.content.decode()
    assert asked.status_code == 200
    assert 'data-testid="warnings"' in html
    assert "a band narrower than 1 °C is hard to hold" in html
    assert 'name="accept_warnings" value="1"' in html
    assert anyway.status_code == 302
    shipment = Shipment.objects.get()
    assert len(shipment.compatibility_warnings) == 1


def test_products_that_cannot_travel_together_are_shown_on_the_lots(
    coldchain_controller, packhouse, market_site, lot_of
):
    data = plan_form(
        packhouse, market_site, [(lot_of("FRT-BANANA"), "10"), (lot_of("VEG-LETTUCE"), "10")]
    )

    answer = page_as(coldchain_controller).post(NEW, data)

    assert answer.status_code == 400
    assert "These products cannot travel together: Banana (13–14 °C)" in answer.content.decode()
    assert not Shipment.objects.exists()


def test_the_plan_form_reports_what_is_wrong(coldchain_controller, packhouse, lot_of):
    data = plan_form(packhouse, packhouse, [(lot_of("VEG-LETTUCE"), "10")])
    data["lots-1-lot_code"] = "NO-SUCH-LOT"
    data["lots-1-quantity_kg"] = "5"

    unknown = page_as(coldchain_controller).post(NEW, data)
    del data["lots-1-lot_code"], data["lots-1-quantity_kg"]
    same_place = page_as(coldchain_controller).post(NEW, data)

    assert unknown.status_code == 400
    assert "Not found, or not yours." in unknown.content.decode()
    assert same_place.status_code == 400
    assert "The destination must be another place than the origin." in (same_place.content.decode())
    assert not Shipment.objects.exists()


def test_planning_between_other_peoples_sites_is_refused_on_the_form(manager, lot_of):
    from tests.coldchain.factories import SiteFactory

    data = plan_form(SiteFactory(), SiteFactory(), [(lot_of("VEG-LETTUCE"), "10")])

    answer = page_as(manager).post(NEW, data)

    assert answer.status_code == 400
    assert "You may plan only shipments from or to your own" in answer.content.decode()
    assert not Shipment.objects.exists()


# --- The shipment page ------------------------------------------------------------------------


def test_the_shipment_page_carries_the_live_chart(manager, planned):
    html = page_as(manager).get(detail(planned)).content.decode()

    assert (
        f'data-temperature-chart data-readings-url="/api/coldchain/shipments/{planned.pk}/'
        f'readings/" data-subject="shipment:{planned.pk}" data-min="0.0" data-max="2.0" '
        "data-live" in html
    )
    assert 'src="/static/js/coldchain/temperature_chart.js"' in html
    assert 'src="/static/vendor/uplot/uPlot.iife.min.js"' in html
    assert 'href="/static/vendor/uplot/uPlot.min.css"' in html
    assert planned.origin.name in html
    assert "0 to 2 °C" in html


def test_the_shipment_page_shows_lots_with_shelf_life_handovers_and_alerts(
    coldchain_controller, planned, data_logger
):
    now = timezone.now()
    line = planned.lots.get()
    LotCondition.objects.create(
        lot=line.lot,
        evaluated_at=now,
        consumed_fraction=0.4,
        remaining_days=6.25,
        expected_expiry_at=now + timedelta(days=6),
    )
    assignment = assign_logger(
        logger=data_logger, subject=planned, starts_at=now - timedelta(minutes=30)
    )
    add_readings(data_logger, now - timedelta(minutes=20), [1.0, 1.5])
    Alert.objects.create(kind=AlertKind.SIGNAL_LOST, assignment=assignment, shipment=planned)
    record_handover(
        shipment=planned,
        kind="loading",
        decision="accepted",
        probe_temperature_c="1.3",
        by=coldchain_controller,
    )

    html = page_as(coldchain_controller).get(detail(planned)).content.decode()

    assert line.lot.lot_code in html
    assert "200 kg" in html
    assert "Remaining shelf life: 6.2 days" in html or "Remaining shelf life: 6.3 days" in html
    assert "1.3 °C" in html
    assert "2 readings, 1.0 to 1.5 °C" in html
    assert f'href="{detail(planned)}handover/loading/record/"' in html
    assert "Loss of signal" in html
    assert 'data-testid="record-unloading"' in html
    assert 'data-testid="record-loading"' not in html
    assert 'data-testid="cancel"' not in html


def test_each_end_sees_only_its_own_handover_button(manager, market_staff, planned):
    at_origin = page_as(manager).get(detail(planned)).content.decode()
    at_destination = page_as(market_staff).get(detail(planned)).content.decode()

    assert 'data-testid="record-loading"' in at_origin
    assert 'data-testid="record-loading"' not in at_destination
    assert 'data-testid="cancel"' in at_origin
    assert 'data-testid="cancel"' in at_destination


def test_a_planned_shipment_is_cancelled_from_its_page(market_staff, planned):
    client = page_as(market_staff)

    answer = client.post(f"{detail(planned)}cancel/")
    again = client.post(f"{detail(planned)}cancel/", follow=True)

    assert answer.status_code == 302
    assert Shipment.objects.get().status == ShipmentStatus.CANCELLED
    assert "only a planned shipment can be cancelled" in again.content.decode()


# --- Handovers --------------------------------------------------------------------------------


def test_the_origin_records_loading_on_the_handover_page(manager, planned):
    client = page_as(manager)
    form = client.get(f"{detail(planned)}handover/loading/")

    answer = client.post(
        f"{detail(planned)}handover/loading/",
        {"probe_temperature_c": "1.6", "decision": "accepted", "note": ""},
    )

    assert form.status_code == 200
    assert 'name="probe_temperature_c"' in form.content.decode()
    assert answer.status_code == 302
    assert answer["Location"] == detail(planned)
    handover = Handover.objects.get()
    assert (handover.kind, handover.recorded_by) == ("loading", manager)
    assert Shipment.objects.get().status == ShipmentStatus.IN_TRANSIT


def test_a_rejection_without_a_reason_is_asked_for_one(manager, planned):
    answer = page_as(manager).post(
        f"{detail(planned)}handover/loading/",
        {"probe_temperature_c": "9.5", "decision": "rejected", "note": ""},
    )

    assert answer.status_code == 400
    assert "Say why the goods are rejected." in answer.content.decode()
    assert not Handover.objects.exists()


def test_an_implausible_probe_is_refused_on_the_form(manager, planned):
    answer = page_as(manager).post(
        f"{detail(planned)}handover/loading/",
        {"probe_temperature_c": "75", "decision": "accepted"},
    )

    assert answer.status_code == 400
    assert not Handover.objects.exists()


def test_the_other_end_gets_403_on_the_handover_page(market_staff, manager, planned):
    assert page_as(market_staff).get(f"{detail(planned)}handover/loading/").status_code == 403
    assert page_as(manager).get(f"{detail(planned)}handover/unloading/").status_code == 403


def test_a_second_loading_is_a_conflict_on_the_page(manager, planned):
    client = page_as(manager)
    data = {"probe_temperature_c": "1.6", "decision": "accepted"}
    client.post(f"{detail(planned)}handover/loading/", data)

    shown = client.get(f"{detail(planned)}handover/loading/")
    again = client.post(f"{detail(planned)}handover/loading/", data)

    assert 'data-testid="not-due"' in shown.content.decode()
    assert again.status_code == 409
    assert Handover.objects.count() == 1


def test_the_record_is_downloaded_from_the_shipment_page(manager, market_staff, planned):
    page_as(manager).post(
        f"{detail(planned)}handover/loading/",
        {"probe_temperature_c": "1.6", "decision": "accepted"},
    )

    answer = page_as(market_staff).get(f"{detail(planned)}handover/loading/record/")
    missing = page_as(market_staff).get(f"{detail(planned)}handover/unloading/record/")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(answer.streaming_content).decode().startswith("recorded_at_asia_shanghai,")
    assert missing.status_code == 404
