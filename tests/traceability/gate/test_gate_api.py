"""The gate through /api/trace/: the clerk checks in and tests; every endpoint shows each role
only its own (market staff their market's, farmers and co-operatives their lots', read-only),
and bad input is a field error with nothing saved."""

import pytest

from accounts.choices import Role
from accounts.models import Notification
from tests.accounts.factories import UserFactory
from traceability.models import LaboratoryResult, MarketEntry, RapidTest
from traceability.services.gate import check_in_with_certificate, check_in_without_certificate

PLATE = "京AD12345"
ENTRIES = "/api/trace/entries/"


@pytest.fixture
def entry(market, gate_clerk, certificate):
    return check_in_with_certificate(
        market=market,
        by=gate_clerk,
        code=certificate.trace_code.code,
        vehicle_plate=PLATE,
        gross_weight_kg="300",
    )


@pytest.fixture
def held_entry(market, gate_clerk, uncertified_lot, api_as):
    entry = check_in_without_certificate(
        market=market,
        by=gate_clerk,
        lot_code=uncertified_lot.lot_code,
        vehicle_plate=PLATE,
        gross_weight_kg="300",
    )
    answer = api_as(gate_clerk).post(
        f"{ENTRIES}{entry.pk}/rapid-tests/",
        {"method": "enzyme_inhibition", "sample": "1 kg", "inhibition_pct": "72.5"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    return entry


@pytest.mark.django_db
def test_clerk_checks_in_by_code_and_reads_the_entry_back(api_as, gate_clerk, certificate, lot):
    answer = api_as(gate_clerk).post(
        ENTRIES,
        {
            "code": certificate.trace_code.code,
            "vehicle_plate": "京a·d12345",
            "gross_weight_kg": "300.5",
        },
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["outcome"] == "admitted"
    assert body["lot_code"] == lot.lot_code
    assert body["certificate_code"] == certificate.trace_code.code
    assert body["quantity_certified_kg"] == "80.000"
    assert body["vehicle_plate"] == "京AD12345"
    assert body["receipt_url"].endswith(f"/t/{body['receipt_code']}")
    assert api_as(gate_clerk).get(f"{ENTRIES}{body['id']}/").json()["id"] == body["id"]


@pytest.mark.django_db
def test_clerk_checks_in_by_lot_code_and_a_positive_test_alerts_the_supervisor(
    api_as, gate_clerk, supervisor, uncertified_lot, held_entry
):
    body = api_as(gate_clerk).get(f"{ENTRIES}{held_entry.pk}/").json()
    assert body["outcome"] == "held"
    assert body["certificate_code"] is None
    assert body["rapid_tests"][0]["is_positive"] is True
    assert Notification.objects.filter(user=supervisor, kind="gate.rapid_test_positive").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "0000-0000-0000"}, "code"),
        ({"code": "https://evil.example/t/XXXX"}, "code"),
        ({"lot_code": "NO-SUCH-LOT"}, "lot_code"),
        ({}, "code"),
        ({"code": "C", "lot_code": "L"}, "code"),
        ({"vehicle_plate": "12345"}, "vehicle_plate"),
        ({"gross_weight_kg": "-1"}, "gross_weight_kg"),
        ({"gross_weight_kg": "1e9"}, "gross_weight_kg"),
    ],
)
def test_bad_check_in_is_a_field_error_and_saves_nothing(
    api_as, gate_clerk, certificate, payload, field
):
    data = {"code": certificate.trace_code.code, "vehicle_plate": PLATE, "gross_weight_kg": "5"}
    if "lot_code" in payload or payload == {}:
        data.pop("code")
    data.update(payload)

    answer = api_as(gate_clerk).post(ENTRIES, data, format="json")

    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert not MarketEntry.objects.exists()


@pytest.mark.django_db
def test_revoked_certificate_gets_the_unknown_codes_answer(api_as, gate_clerk, certificate):
    unknown = api_as(gate_clerk).post(
        ENTRIES, {"code": "0000-0000-0000", "vehicle_plate": PLATE, "gross_weight_kg": "5"}
    )
    certificate.revoked_at = certificate.created_at
    certificate.save(update_fields=["revoked_at"])
    revoked = api_as(gate_clerk).post(
        ENTRIES,
        {"code": certificate.trace_code.code, "vehicle_plate": PLATE, "gross_weight_kg": "5"},
    )

    assert unknown.status_code == revoked.status_code == 400
    assert unknown.json() == revoked.json()


@pytest.mark.django_db
@pytest.mark.parametrize("pct", ["-1", "100.5", "lots"])
def test_inhibition_outside_0_to_100_is_a_field_error(api_as, gate_clerk, entry, pct):
    answer = api_as(gate_clerk).post(
        f"{ENTRIES}{entry.pk}/rapid-tests/",
        {"method": "enzyme_inhibition", "sample": "1 kg", "inhibition_pct": pct},
        format="json",
    )

    assert answer.status_code == 400
    assert "inhibition_pct" in answer.json()
    assert not RapidTest.objects.exists()


@pytest.mark.django_db
def test_supervisor_records_the_laboratory_result_and_the_clerk_may_not(
    api_as, gate_clerk, supervisor, held_entry
):
    payload = {
        "laboratory": "北京市农产品质量检测中心",
        "report_number": "R-1",
        "outcome": "cleared",
    }
    url = f"{ENTRIES}{held_entry.pk}/laboratory-results/"

    assert api_as(gate_clerk).post(url, payload, format="json").status_code == 403
    answer = api_as(supervisor).post(url, payload, format="json")

    assert answer.status_code == 201, answer.content
    assert api_as(supervisor).get(f"{ENTRIES}{held_entry.pk}/").json()["outcome"] == (
        "cleared_by_laboratory"
    )


def _ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["results"]]


@pytest.mark.django_db
def test_each_role_sees_only_its_own_entries_tests_and_results(
    api_as,
    gate_clerk,
    supervisor,
    other_operator,
    member,
    manager,
    buyer,
    admin_user,
    held_entry,
    entry,
):
    LaboratoryResult.objects.create(
        entry=held_entry, laboratory="lab", report_number="R-9", outcome="confirmed",
        recorded_by=supervisor, recorded_at=held_entry.arrived_at,
    )  # fmt: skip
    stranger_farmer = UserFactory(role=Role.FARMER)
    every_entry = sorted([entry.pk, held_entry.pk])
    test_ids = list(RapidTest.objects.values_list("pk", flat=True))
    result_ids = list(LaboratoryResult.objects.values_list("pk", flat=True))

    for user in (gate_clerk, member, manager, admin_user):
        client = api_as(user)
        assert sorted(_ids(client.get(ENTRIES))) == every_entry
        assert _ids(client.get("/api/trace/rapid-tests/")) == test_ids
        assert _ids(client.get("/api/trace/laboratory-results/")) == result_ids
        assert client.get(f"{ENTRIES}{entry.pk}/").status_code == 200

    for user in (other_operator, buyer, stranger_farmer):
        client = api_as(user)
        assert _ids(client.get(ENTRIES)) == []
        assert _ids(client.get("/api/trace/rapid-tests/")) == []
        assert _ids(client.get("/api/trace/laboratory-results/")) == []
        assert client.get(f"{ENTRIES}{entry.pk}/").status_code == 404
        assert client.get(f"/api/trace/rapid-tests/{test_ids[0]}/").status_code == 404
        assert client.get(f"/api/trace/laboratory-results/{result_ids[0]}/").status_code == 404
        tested = client.post(
            f"{ENTRIES}{entry.pk}/rapid-tests/",
            {"method": "other", "sample": "x", "inhibition_pct": "90"},
            format="json",
        )
        assert tested.status_code == 404


@pytest.mark.django_db
def test_farmers_and_cooperatives_read_but_do_not_write(
    api_as, member, manager, entry, certificate
):
    for user in (member, manager):
        client = api_as(user)
        checked = client.post(
            ENTRIES,
            {"code": certificate.trace_code.code, "vehicle_plate": PLATE, "gross_weight_kg": "5"},
        )
        tested = client.post(
            f"{ENTRIES}{entry.pk}/rapid-tests/",
            {"method": "other", "sample": "x", "inhibition_pct": "90"},
            format="json",
        )
        assert checked.status_code == 403
        assert tested.status_code == 403
    assert MarketEntry.objects.count() == 1
    assert not RapidTest.objects.exists()


@pytest.mark.django_db
def test_the_other_markets_staff_cannot_test_this_markets_entry(api_as, other_operator, entry):
    answer = api_as(other_operator).post(
        f"{ENTRIES}{entry.pk}/rapid-tests/",
        {"method": "other", "sample": "x", "inhibition_pct": "90"},
        format="json",
    )
    assert answer.status_code == 404
    assert not RapidTest.objects.exists()


def test_anonymous_gets_401(api_client, db):
    assert api_client.get(ENTRIES).status_code == 401
    assert api_client.post(ENTRIES, {}).status_code == 401


@pytest.mark.django_db
def test_a_retried_check_in_with_its_key_answers_the_first_entry(api_as, gate_clerk, certificate):
    client = api_as(gate_clerk)
    payload = {"code": certificate.trace_code.code, "vehicle_plate": PLATE, "gross_weight_kg": "5"}

    first = client.post(ENTRIES, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(ENTRIES, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    too_long = client.post(ENTRIES, payload, format="json", HTTP_IDEMPOTENCY_KEY="k" * 65)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert too_long.status_code == 400
    assert "idempotency_key" in too_long.json()
    assert MarketEntry.objects.count() == 1
