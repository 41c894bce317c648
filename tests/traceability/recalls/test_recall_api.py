"""Recalls through the API: each role sees and does only what is hers."""

import pytest

from traceability.choices import DownstreamKind as Kind
from traceability.models import Recall
from traceability.services.recalls import list_recall_scope

URL = "/api/trace/recalls/"


def test_a_co_operative_manager_opens_a_recall_through_the_api(api_as, journey, coop_manager):
    response = api_as(coop_manager).post(
        URL,
        {"lot": journey.lot.pk, "severity": "class_ii", "reason": "实验室确认超标"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["lot"]["lot_code"] == journey.lot.lot_code
    assert body["lot_held"] is True
    assert body["runs"] is True
    # Frozen at once; listed record by record and told by the worker after the commit.
    assert body["listed_at"] is None
    assert sum(kind["records"] for kind in body["summary"]["by_kind"]) == 7
    assert body["scope"] == []

    list_recall_scope(recall_id=body["id"])
    body = api_as(coop_manager).get(f"{URL}{body['id']}/").json()
    assert body["listed_at"] is not None
    assert len(body["scope"]) == 7
    assert sum(kind["records"] for kind in body["summary"]["by_kind"]) == 7
    assert body["summary"]["reached"] == len(body["notices"]) > 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"severity": "class_ii", "reason": ""}, "reason"),
        ({"severity": "class_v", "reason": "x"}, "severity"),
        ({"lot": "abc", "severity": "class_i", "reason": "x"}, "lot"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(
    api_as, journey, coop_manager, data, field
):
    data = {"lot": journey.lot.pk, **data}

    response = api_as(coop_manager).post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Recall.objects.exists()


def test_a_lot_of_another_co_operative_is_a_field_error(api_as, journey, other_coop_manager):
    response = api_as(other_coop_manager).post(
        URL, {"lot": journey.lot.pk, "severity": "class_i", "reason": "x"}, format="json"
    )

    assert response.status_code == 400
    assert "lot" in response.json()
    assert not Recall.objects.exists()


def test_a_second_open_recall_is_a_conflict(api_as, recall, coop_manager):
    response = api_as(coop_manager).post(
        URL, {"lot": recall.lot_id, "severity": "class_i", "reason": "again"}, format="json"
    )

    assert response.status_code == 409
    assert "lot" in response.json()


def test_roles_that_recall_nothing_may_not_open_one(
    api_as, journey, farmer, buyer, consumer, operator
):
    for user in (farmer, buyer, consumer, operator):  # an operator who is not a supervisor
        response = api_as(user).post(
            URL, {"lot": journey.lot.pk, "severity": "class_i", "reason": "x"}, format="json"
        )
        assert response.status_code == 403
    assert not Recall.objects.exists()


def test_anonymous_gets_nothing(api_client, recall):
    assert api_client.get(URL).status_code in (401, 403)
    assert api_client.get(f"{URL}{recall.pk}/").status_code in (401, 403)


def test_a_consumer_sees_only_her_own_record_and_notice(api_as, recall, journey):
    consumer = journey.consumers[0]

    listed = api_as(consumer).get(URL).json()
    body = api_as(consumer).get(f"{URL}{recall.pk}/").json()

    assert [r["id"] for r in listed["results"]] == [recall.pk]
    assert [(r["kind"], r["record_id"]) for r in body["scope"]] == [
        (Kind.CONSUMER_ORDER_LINE, journey.consumer_lines[0].pk)
    ]
    assert len(body["notices"]) == 1
    assert body["summary"] is None
    assert body["report_url"] is None
    assert body["runs"] is False


def test_strangers_do_not_find_it(api_as, recall, buyer, other_coop_manager, other_operator):
    for stranger in (buyer, other_coop_manager, other_operator):
        client = api_as(stranger)
        assert client.get(URL).json()["results"] == []
        assert client.get(f"{URL}{recall.pk}/").status_code == 404
        assert client.post(f"{URL}{recall.pk}/acknowledge/", {}).status_code == 404
        row = recall.scope.first()
        assert (
            client.post(
                f"{URL}{recall.pk}/dispositions/", {"scope_row": row.pk, "returned_kg": "1"}
            )
        ).status_code == 404
        assert client.post(f"{URL}{recall.pk}/close/", {}).status_code == 404
        assert client.get(f"{URL}{recall.pk}/report.pdf").status_code == 404


def test_a_party_acknowledges_and_records_but_may_not_close_or_download(api_as, recall, journey):
    manager = journey.warehouse_manager
    client = api_as(manager)
    row = recall.scope.get(kind=Kind.STOCK_LOT)

    acknowledged = client.post(f"{URL}{recall.pk}/acknowledge/", {"note": "已下架"}, format="json")
    recorded = client.post(
        f"{URL}{recall.pk}/dispositions/",
        {"scope_row": row.pk, "returned_kg": "20", "destroyed_kg": "39.8"},
        format="json",
    )
    too_much = client.post(
        f"{URL}{recall.pk}/dispositions/", {"scope_row": row.pk, "returned_kg": "0.001"}
    )

    assert acknowledged.status_code == 200
    assert acknowledged.json()["notices"][0]["acknowledged_at"] is not None
    assert recorded.status_code == 201
    assert too_much.status_code == 400
    assert "returned_kg" in too_much.json()
    assert client.post(f"{URL}{recall.pk}/close/", {}).status_code == 403
    assert client.get(f"{URL}{recall.pk}/report.pdf").status_code == 403


def test_who_runs_it_closes_it_and_downloads_the_report(api_as, recall, coop_manager, supervisor):
    client = api_as(coop_manager)
    assert client.get(f"{URL}{recall.pk}/report.pdf").status_code == 409  # still open

    closed = client.post(f"{URL}{recall.pk}/close/", {"note": "已全部销毁"}, format="json")
    report = api_as(supervisor).get(f"{URL}{recall.pk}/report.pdf")  # a market where it traded

    assert closed.status_code == 200
    assert closed.json()["is_open"] is False
    assert closed.json()["lot_held"] is True
    assert closed.json()["report_url"].endswith(f"/api/trace/recalls/{recall.pk}/report.pdf")
    assert report.status_code == 200
    assert report["Content-Type"] == "application/pdf"
    assert report.content.startswith(b"%PDF")


def test_a_false_alarm_through_the_api_releases_the_hold(api_as, recall, coop_manager):
    response = api_as(coop_manager).post(
        f"{URL}{recall.pk}/close/", {"false_alarm": True, "note": "复检合格"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["false_alarm"] is True
    assert response.json()["lot_held"] is False
