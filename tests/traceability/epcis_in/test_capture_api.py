"""POST /epcis/capture and GET /epcis/capture/<id>: a document accepted whole (202, the job
at Location) or refused whole with every error; a second sending adds nothing; who may report
on which lot."""

from datetime import timedelta

import pytest
from django.utils import timezone

from farms.models import LotAdmission
from traceability.epcis.partners import issue_partner_key, revoke_partner_key
from traceability.models import CapturedEvent, CaptureJob
from traceability.services.epcis_capture import derived_event_id

from .documents import digital_link, document, lgtin, object_event, platform_uri

pytestmark = pytest.mark.django_db


def _now():
    return timezone.now().replace(microsecond=0)


def test_a_partner_sends_a_document_and_reads_its_job(packing_line, our_lot, send, api_client):
    partner, key = packing_line
    at = _now() - timedelta(hours=2)
    sent = document(
        object_event(digital_link(our_lot), at, event_id="urn:uuid:1", biz_step="shipping"),
        object_event(lgtin(our_lot), at, event_id="urn:uuid:2"),
        object_event(platform_uri(our_lot), at, event_id="urn:uuid:3", biz_step="inspecting"),
        at=at,
    )

    response = send(key, sent)

    assert response.status_code == 202
    assert response["GS1-EPCIS-Version"] == "2.0.0"
    job = CaptureJob.objects.get()
    assert response["Location"] == f"/epcis/capture/{job.pk}"
    job_answer = api_client.get(response["Location"], HTTP_AUTHORIZATION=f"Bearer {key}")
    assert job_answer.status_code == 200
    body = job_answer.json()
    assert body["captureID"] == str(job.pk)
    assert (body["running"], body["success"], body["errors"]) == (False, True, [])
    assert body["captureErrorBehaviour"] == "rollback"
    assert (body["eventCount"], body["newEventCount"]) == (3, 3)
    stored = CapturedEvent.objects.order_by("event_id")
    assert [(e.event_id, e.lot_id, e.partner_id) for e in stored] == [
        ("urn:uuid:1", our_lot.pk, partner.pk),
        ("urn:uuid:2", our_lot.pk, partner.pk),
        ("urn:uuid:3", our_lot.pk, partner.pk),
    ]
    assert stored[0].biz_step == "shipping"
    assert stored[0].epcs == [digital_link(our_lot)]
    assert stored[0].event["quantityList"][0]["quantity"] == 100


def test_sending_it_again_adds_nothing(packing_line, our_lot, send):
    _partner, key = packing_line
    at = _now() - timedelta(hours=1)
    with_id = object_event(digital_link(our_lot), at, event_id="urn:uuid:again")
    without_id = object_event(lgtin(our_lot), at, biz_step="storing")
    sent = document(with_id, without_id, at=at)

    first, second = send(key, sent), send(key, sent)

    assert (first.status_code, second.status_code) == (202, 202)
    assert [first.json()["newEventCount"], second.json()["newEventCount"]] == [2, 0]
    assert second.json()["success"] is True
    assert CapturedEvent.objects.count() == 2
    derived = CapturedEvent.objects.exclude(event_id="urn:uuid:again").get()
    assert derived.event_id == derived_event_id(without_id)
    assert derived.event_id.startswith("ni:///sha-256;")


def test_the_same_event_twice_in_one_document_counts_once(packing_line, our_lot, send):
    _partner, key = packing_line
    at = _now() - timedelta(hours=1)
    event = object_event(digital_link(our_lot), at, event_id="urn:uuid:twice")

    response = send(key, document(event, event, at=at))

    assert response.json()["newEventCount"] == 1
    assert CapturedEvent.objects.count() == 1


def test_another_partners_event_id_is_refused(packing_line, our_lot, send, cooperative, admin_user):
    _partner, key = packing_line
    _other, other_key = issue_partner_key(
        name="Second line", cooperative=cooperative, created_by=admin_user
    )
    at = _now() - timedelta(hours=1)
    send(key, document(object_event(digital_link(our_lot), at, event_id="urn:uuid:x"), at=at))

    response = send(
        other_key, document(object_event(lgtin(our_lot), at, event_id="urn:uuid:x"), at=at)
    )

    assert response.json()["success"] is False
    assert response.json()["errors"][0]["field"] == "eventID"
    assert CapturedEvent.objects.get().event["quantityList"][0]["epcClass"] == digital_link(our_lot)


# --- Who may report on which lot ------------------------------------------------------------


def test_a_lot_of_another_cooperative_is_refused_with_nothing_stored(
    packing_line, our_lot, other_lot, send
):
    _partner, key = packing_line
    at = _now() - timedelta(hours=1)
    sent = document(
        object_event(digital_link(our_lot), at, event_id="urn:uuid:mine"),
        object_event(digital_link(other_lot), at, event_id="urn:uuid:theirs"),
        object_event("https://id.gs1.org/01/06901234567892/10/NOT-OURS", at),
        at=at,
    )

    response = send(key, sent)

    assert response.status_code == 202
    body = response.json()
    assert body["success"] is False
    assert [(e["eventIndex"], e["field"]) for e in body["errors"]] == [
        (1, "quantityList/0/epcClass"),
        (2, "quantityList"),
    ]
    assert "XY-TOM-0002" in body["errors"][0]["title"]
    assert body["errors"][1]["title"] == "The event names none of our lots."
    assert CapturedEvent.objects.count() == 0
    assert CaptureJob.objects.get().errors == body["errors"]


def test_a_lot_code_with_another_products_gtin_is_not_ours(packing_line, our_lot, send):
    _partner, key = packing_line
    at = _now() - timedelta(hours=1)
    wrong = f"https://id.gs1.org/01/04012345123456/10/{our_lot.lot_code}"

    response = send(key, document(object_event(wrong, at), at=at))

    assert response.json()["errors"][0]["title"] == "The event names none of our lots."


def test_a_market_key_reports_on_the_lots_that_market_admitted(
    market, our_lot, other_lot, admin_user, send
):
    _partner, key = issue_partner_key(name="Market gate", market=market, created_by=admin_user)
    LotAdmission.objects.create(
        lot=other_lot, market=market, admitted_at=timezone.now(), reference="entry:1"
    )
    at = _now() - timedelta(hours=1)

    admitted = send(key, document(object_event(digital_link(other_lot), at), at=at))
    not_admitted = send(key, document(object_event(digital_link(our_lot), at), at=at))

    assert admitted.json()["success"] is True
    assert not_admitted.json()["success"] is False
    assert [e.lot_id for e in CapturedEvent.objects.all()] == [other_lot.pk]


def test_a_revoked_key_is_refused(packing_line, our_lot, send):
    partner, key = packing_line
    revoke_partner_key(partner)
    at = _now()

    response = send(key, document(object_event(digital_link(our_lot), at), at=at))

    assert response.status_code == 401
    assert CaptureJob.objects.count() == 0


def test_a_query_only_key_may_not_send(cooperative, admin_user, our_lot, send):
    _partner, key = issue_partner_key(
        name="Reader", cooperative=cooperative, created_by=admin_user, may_capture=False
    )
    at = _now()

    response = send(key, document(object_event(digital_link(our_lot), at), at=at))

    assert response.status_code == 403
    assert CaptureJob.objects.count() == 0


def test_a_partner_does_not_find_another_partners_job(
    packing_line, our_lot, send, api_client, cooperative, admin_user
):
    _partner, key = packing_line
    _other, other_key = issue_partner_key(
        name="Other", cooperative=cooperative, created_by=admin_user
    )
    at = _now()
    location = send(key, document(object_event(digital_link(our_lot), at), at=at))["Location"]

    response = api_client.get(location, HTTP_AUTHORIZATION=f"Bearer {other_key}")

    assert response.status_code == 404
    assert (
        api_client.get("/epcis/capture/nope", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404
    )


def test_a_signed_in_manager_reports_on_his_cooperatives_lots(
    manager, cooperative, our_lot, other_lot, api_as
):
    at = _now() - timedelta(hours=1)
    client = api_as(manager)
    sent = document(object_event(digital_link(our_lot), at, biz_step="packing"), at=at)
    refused = document(object_event(digital_link(other_lot), at), at=at)

    accepted = client.post("/epcis/capture", sent, format="json")
    not_his = client.post("/epcis/capture", refused, format="json")

    assert accepted.status_code == 202
    assert not_his.json()["success"] is False
    event = CapturedEvent.objects.select_related("partner").get()
    assert event.partner.name == cooperative.name
    assert event.partner.cooperative_id == cooperative.pk
    job = client.get(accepted["Location"])
    assert job.json()["success"] is True


def test_the_platform_admin_reports_on_any_lot(admin_user, other_lot, api_as):
    at = _now() - timedelta(hours=1)

    response = api_as(admin_user).post(
        "/epcis/capture", document(object_event(lgtin(other_lot), at), at=at), format="json"
    )

    assert response.json()["success"] is True


@pytest.mark.parametrize("role", ["farmer", "buyer", "market_operator", "consumer"])
def test_other_roles_may_not_send(role, request, our_lot, api_as):
    user = request.getfixturevalue(role)
    at = _now()

    response = api_as(user).post(
        "/epcis/capture", document(object_event(digital_link(our_lot), at), at=at), format="json"
    )

    assert response.status_code == 403
    assert CaptureJob.objects.count() == 0


def test_nobody_signed_in_gets_401(our_lot, api_client):
    at = _now()

    response = api_client.post(
        "/epcis/capture", document(object_event(digital_link(our_lot), at), at=at), format="json"
    )

    assert response.status_code == 401


def test_the_error_points_at_the_identifier(packing_line, our_lot, other_lot, send):
    _partner, key = packing_line
    at = _now() - timedelta(hours=1)
    event = object_event(digital_link(our_lot), at)
    event["epcList"] = ["urn:epc:id:sscc:6901234.0000000001", f"{digital_link(other_lot)}/21/7"]

    response = send(key, document(event, at=at))

    assert [(e["eventIndex"], e["field"]) for e in response.json()["errors"]] == [(0, "epcList/1")]


def test_an_extension_keeps_its_namespace(packing_line, our_lot, send):
    _partner, key = packing_line
    at = _now() - timedelta(hours=1)
    event = object_event(digital_link(our_lot), at, event_id="urn:uuid:ext")
    event["example:crate"] = "C-17"
    sent = document(event, at=at)
    sent["@context"].append({"example": "https://example.com/epcis/"})

    assert send(key, sent).json()["success"] is True

    stored = CapturedEvent.objects.get().event
    assert stored["@context"] == [{"example": "https://example.com/epcis/"}]
    assert stored["example:crate"] == "C-17"


def test_a_partner_lists_its_own_jobs_page_by_page(
    packing_line, our_lot, send, api_client, cooperative, admin_user
):
    _partner, key = packing_line
    _other, other_key = issue_partner_key(
        name="Other", cooperative=cooperative, created_by=admin_user
    )
    at = _now() - timedelta(hours=1)
    for n in range(3):
        send(
            key, document(object_event(digital_link(our_lot), at, event_id=f"urn:uuid:{n}"), at=at)
        )
    send(other_key, document(object_event(lgtin(our_lot), at, event_id="urn:uuid:o"), at=at))
    mine = list(
        CaptureJob.objects.filter(partner=_partner).order_by("-id").values_list("pk", flat=True)
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    first = api_client.get("/epcis/capture?perPage=2", **auth)
    second = api_client.get(first["Link"].split(">")[0].lstrip("<"), **auth)

    assert [job["captureID"] for job in first.json()] == [str(pk) for pk in mine[:2]]
    assert first["Link"].endswith('rel="next"')
    assert [job["captureID"] for job in second.json()] == [str(mine[2])]
    assert "Link" not in second


@pytest.mark.parametrize("query", ["perPage=0", "perPage=101", "perPage=x", "nextPageToken=abc"])
def test_bad_paging_is_refused(query, packing_line, api_client):
    _partner, key = packing_line

    response = api_client.get(f"/epcis/capture?{query}", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 400
    assert response.json()["type"] == "epcisException:QueryParameterException"


def test_each_partner_has_its_own_rate_limit(
    packing_line, cooperative, admin_user, api_client, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "2/minute",
        },
    }
    _partner, key = packing_line
    _other, other_key = issue_partner_key(
        name="Other", cooperative=cooperative, created_by=admin_user
    )

    mine = [
        api_client.get("/epcis/capture", HTTP_AUTHORIZATION=f"Bearer {key}").status_code
        for _ in range(3)
    ]
    theirs = api_client.get("/epcis/capture", HTTP_AUTHORIZATION=f"Bearer {other_key}").status_code

    assert mine == [200, 200, 429]
    assert theirs == 200
