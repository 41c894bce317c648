"""Recall pages: open one, the party's acknowledge button and disposition form, closing and
the report; others get 404 or 403."""

from django.urls import reverse

from accounts.models import Notification
from traceability.choices import DownstreamKind as Kind
from traceability.models import Recall
from traceability.services.recalls import list_recall_scope


def test_a_co_operative_manager_opens_a_recall_from_the_page(client, journey, coop_manager):
    client.force_login(coop_manager)
    page = client.get(reverse("traceability:recall_list"))
    assert page.status_code == 200
    assert journey.lot.lot_code in page.content.decode()

    response = client.post(
        reverse("traceability:recall_list"),
        {"lot": journey.lot.pk, "severity": "class_i", "reason": "农残超标"},
        follow=True,
    )

    recall = Recall.objects.get()
    assert response.redirect_chain[-1][0] == reverse("traceability:recall_detail", args=[recall.pk])
    html = response.content.decode()
    assert "农残超标" in html
    assert 'data-testid="recall-listing"' in html  # the worker lists it after the commit

    list_recall_scope(recall_id=recall.pk)
    html = client.get(reverse("traceability:recall_detail", args=[recall.pk])).content.decode()
    assert 'data-testid="recall-listing"' not in html
    assert 'data-testid="recall-notices"' in html
    assert journey.consumer_lines[0].order.number in html


def test_an_empty_reason_is_shown_on_its_field_and_nothing_is_saved(client, journey, coop_manager):
    client.force_login(coop_manager)

    response = client.post(
        reverse("traceability:recall_list"),
        {"lot": journey.lot.pk, "severity": "class_i", "reason": ""},
    )

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Recall.objects.exists()


def test_a_consumer_acknowledges_from_her_notification(client, recall, journey):
    consumer = journey.consumers[0]
    notification = Notification.objects.get(user=consumer, payload__recall_id=recall.pk)
    client.force_login(consumer)

    page = client.get(notification.url)
    assert 'data-testid="acknowledge"' in page.content.decode()
    client.post(reverse("traceability:recall_acknowledge", args=[recall.pk]))
    row = recall.scope.get(kind=Kind.CONSUMER_ORDER_LINE, party_user=consumer)
    client.post(
        reverse("traceability:recall_disposition", args=[recall.pk]),
        {"scope_row": row.pk, "returned_kg": "1.5"},
    )

    page = client.get(notification.url).content.decode()
    assert 'data-testid="acknowledge"' not in page
    assert "1.500" in page
    assert recall.notices.get(user=consumer).acknowledged_at is not None
    assert journey.consumers[1].display_name not in page


def test_too_many_kilograms_show_an_error_and_save_nothing(client, recall, journey):
    client.force_login(journey.warehouse_manager)
    row = recall.scope.get(kind=Kind.STOCK_LOT)

    response = client.post(
        reverse("traceability:recall_disposition", args=[recall.pk]),
        {"scope_row": row.pk, "destroyed_kg": "100"},
    )

    assert response.status_code == 400
    assert 'data-testid="disposition-errors"' in response.content.decode()
    assert not row.dispositions.exists()


def test_closing_from_the_page_links_the_report(client, recall, coop_manager):
    client.force_login(coop_manager)

    response = client.post(
        reverse("traceability:recall_close", args=[recall.pk]), {"note": "完成"}, follow=True
    )
    report = client.get(reverse("traceability:recall_report", args=[recall.pk]))

    assert 'data-testid="recall-report"' in response.content.decode()
    assert report.status_code == 200
    assert report.content.startswith(b"%PDF")


def test_others_get_404_or_403(client, recall, journey, buyer, farmer):
    for stranger in (buyer, farmer):
        client.force_login(stranger)
        assert (
            client.get(reverse("traceability:recall_detail", args=[recall.pk])).status_code == 404
        )
        assert (
            client.post(reverse("traceability:recall_close", args=[recall.pk])).status_code == 404
        )
        assert (
            client.post(reverse("traceability:recall_list"), {"lot": recall.lot_id}).status_code
            == 403
        )
    client.force_login(journey.consumers[0])
    assert client.post(reverse("traceability:recall_close", args=[recall.pk])).status_code == 403
    assert client.get(reverse("traceability:recall_report", args=[recall.pk])).status_code == 403
