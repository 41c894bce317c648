"""The gate's pages: the clerk looks a code up, sees the farm and co-operative, checks the batch
in; bad input is shown on its field; other roles and other markets are kept out; the receipt's
QR opens the lot's trace path; the lot's journey gets the gate's steps."""

import base64
import io

import pytest
import zxingcpp
from PIL import Image

from accounts.choices import Role
from tests.accounts.factories import UserFactory
from traceability.models import MarketEntry
from traceability.models.gate import EntryOutcome
from traceability.selectors.gate import gate_steps
from traceability.services.gate import (
    check_in_with_certificate,
    check_in_without_certificate,
    record_laboratory_result,
    record_rapid_test,
)

PLATE = "鲁G12345"


def page_as(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.django_db
def test_clerk_looks_up_a_certificate_and_sees_farm_cooperative_and_quantity(
    client, gate_clerk, certificate, lot
):
    page = page_as(client, gate_clerk).get("/trace/gate/", {"code": certificate.trace_code.code})

    text = page.content.decode()
    assert page.status_code == 200
    assert lot.farm.name in text
    assert lot.farm.cooperative.name in text
    assert lot.lot_code in text
    assert "80 kg" in text
    assert 'data-testid="check-in-form"' in text


@pytest.mark.django_db
def test_clerk_looks_up_a_lot_code_and_is_told_it_will_be_held(client, gate_clerk, uncertified_lot):
    page = page_as(client, gate_clerk).get("/trace/gate/", {"code": uncertified_lot.lot_code})

    text = page.content.decode()
    assert uncertified_lot.farm.cooperative.name in text
    assert "held at the counter until a rapid test" in text


@pytest.mark.django_db
def test_unknown_code_is_shown_on_the_code_field(client, gate_clerk):
    page = page_as(client, gate_clerk).get("/trace/gate/", {"code": "0000-0000-0000"})

    assert "No label has this trace code." in page.content.decode()
    assert 'data-testid="check-in-form"' not in page.content.decode()


@pytest.mark.django_db
def test_clerk_checks_in_on_the_page_and_sees_it_in_todays_entries(
    client, gate_clerk, certificate, lot
):
    pages = page_as(client, gate_clerk)
    answer = pages.post(
        "/trace/gate/check-in/",
        {"code": certificate.trace_code.code, "vehicle_plate": PLATE, "gross_weight_kg": "420",
         "arrived_at": "", "idempotency_key": "form-0"},
    )  # fmt: skip
    assert answer.status_code == 400  # the arrival time is required on the page

    form = {"code": certificate.trace_code.code, "vehicle_plate": PLATE, "gross_weight_kg": "420",
            "arrived_at": "2026-01-05T06:30", "idempotency_key": "form-1"}  # fmt: skip
    answer = pages.post("/trace/gate/check-in/", form)
    pages.post("/trace/gate/check-in/", form)  # a double tap

    entry = MarketEntry.objects.get()
    assert answer.status_code == 302
    assert answer.url == f"/trace/gate/entries/{entry.pk}/"
    assert entry.outcome == EntryOutcome.ADMITTED
    assert entry.arrived_at.isoformat() == "2026-01-04T22:30:00+00:00"  # Beijing time


@pytest.mark.django_db
def test_bad_plate_and_weight_are_shown_on_their_fields_and_nothing_saved(
    client, gate_clerk, certificate
):
    answer = page_as(client, gate_clerk).post(
        "/trace/gate/check-in/",
        {"code": certificate.trace_code.code, "vehicle_plate": "AB-123", "gross_weight_kg": "0",
         "arrived_at": "2026-01-05T06:30", "idempotency_key": "form-2"},
    )  # fmt: skip

    text = answer.content.decode()
    assert answer.status_code == 400
    assert "Enter a Chinese vehicle plate" in text
    assert "Enter a gross weight above 0 kg" in text
    assert not MarketEntry.objects.exists()


@pytest.mark.django_db
def test_inhibition_outside_0_to_100_is_shown_on_its_field(
    client, market, gate_clerk, uncertified_lot
):
    entry = check_in_without_certificate(
        market=market, by=gate_clerk, lot_code=uncertified_lot.lot_code, vehicle_plate=PLATE,
        gross_weight_kg="50",
    )  # fmt: skip
    answer = page_as(client, gate_clerk).post(
        f"/trace/gate/entries/{entry.pk}/rapid-test/",
        {"method": "enzyme_inhibition", "sample": "1 kg", "inhibition_pct": "120"},
    )

    assert answer.status_code == 400
    assert "from 0 to 100" in answer.content.decode()
    assert not entry.rapid_tests.exists()


@pytest.mark.django_db
def test_gate_pages_are_for_market_staff_only(
    client, buyer, member, other_operator, market, gate_clerk, certificate
):
    entry = check_in_with_certificate(
        market=market, by=gate_clerk, code=certificate.trace_code.code, vehicle_plate=PLATE,
        gross_weight_kg="50",
    )  # fmt: skip
    unattached = UserFactory(role=Role.MARKET_OPERATOR)

    assert page_as(client, buyer).get("/trace/gate/").status_code == 403
    assert page_as(client, member).get("/trace/gate/").status_code == 403
    assert page_as(client, unattached).get("/trace/gate/").status_code == 404
    # Another market's staff: its own gate, but not this market's entry.
    other = page_as(client, other_operator)
    assert other.get("/trace/gate/").status_code == 200
    assert entry.lot.lot_code not in other.get("/trace/gate/").content.decode()
    assert other.get(f"/trace/gate/entries/{entry.pk}/").status_code == 404
    assert other.get(f"/trace/gate/entries/{entry.pk}/receipt/").status_code == 404
    answer = other.post(
        f"/trace/gate/entries/{entry.pk}/rapid-test/",
        {"method": "other", "sample": "x", "inhibition_pct": "90"},
    )
    assert answer.status_code == 404
    # The farmer sees her lot's entry, read-only.
    farmer_page = page_as(client, member).get(f"/trace/gate/entries/{entry.pk}/")
    assert farmer_page.status_code == 200
    assert 'data-testid="rapid-test-form"' not in farmer_page.content.decode()


@pytest.mark.django_db
def test_only_a_supervisor_opens_the_setting_and_switches_it_on(
    client, market, operator, supervisor
):
    assert page_as(client, operator).get("/trace/gate/settings/").status_code == 404

    answer = page_as(client, supervisor).post(
        "/trace/gate/settings/", {"entry_check_required": "on"}
    )

    market.refresh_from_db()
    assert answer.status_code == 302
    assert market.entry_check_required is True


@pytest.mark.django_db
def test_the_receipts_qr_opens_the_entrys_trace_path(
    client, settings, market, gate_clerk, certificate
):
    entry = check_in_with_certificate(
        market=market, by=gate_clerk, code=certificate.trace_code.code, vehicle_plate=PLATE,
        gross_weight_kg="50",
    )  # fmt: skip
    page = page_as(client, gate_clerk).get(f"/trace/gate/entries/{entry.pk}/receipt/")

    text = page.content.decode()
    png = base64.b64decode(text.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0])
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert decoded[0].text == f"{settings.SITE_URL}/t/{entry.trace_code.code}"


@pytest.mark.django_db
def test_the_lots_journey_gets_its_gate_steps_without_personal_data(
    market, gate_clerk, supervisor, uncertified_lot
):
    entry = check_in_without_certificate(
        market=market, by=gate_clerk, lot_code=uncertified_lot.lot_code, vehicle_plate=PLATE,
        gross_weight_kg="50",
    )  # fmt: skip
    record_rapid_test(
        entry_id=entry.pk, by=gate_clerk, method="enzyme_inhibition", sample="1 kg",
        inhibition_pct="55",
    )  # fmt: skip
    record_laboratory_result(
        entry_id=entry.pk, by=supervisor, laboratory="北京市农产品质量检测中心",
        report_number="R-7", outcome="cleared",
    )  # fmt: skip

    steps = gate_steps(uncertified_lot)

    assert [step.kind for step in steps] == ["market_entry", "rapid_test", "laboratory"]
    assert all(step.public and step.place == market.name for step in steps)
    words = " ".join(f"{step.title} {step.detail}" for step in steps)
    assert PLATE not in words
    assert str(gate_clerk) not in words
    assert "55" in words
