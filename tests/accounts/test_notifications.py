"""In-app notifications: kept first, pushed after commit, listed and marked read by their owner."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from accounts.models import Notification
from accounts.notifications import notify, notify_many
from config.asgi import application
from tests.accounts.factories import SAME_SITE, UserFactory, session_cookie_for


def news_for(user, title="新订单", **kwargs) -> Notification:
    return notify(user=user, kind="order.placed", title=title, url="/orders/1/", **kwargs)


async def connected_socket(user) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie_for)(user)
    socket = WebsocketCommunicator(application, "/ws/me/", headers=[SAME_SITE, cookie])
    connected, _ = await socket.connect()
    assert connected
    return socket


# --- notify -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_notification_is_saved_then_pushed_after_commit(farmer):
    socket = await connected_socket(farmer)

    def notify_in_a_transaction():
        with transaction.atomic():
            notification = news_for(farmer, payload={"order_id": 7})
            # Still inside the transaction: saved, not yet pushed.
            assert Notification.objects.filter(pk=notification.pk).exists()
        return notification

    notification = await sync_to_async(notify_in_a_transaction)()

    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "order.placed"
    assert event["payload"]["id"] == notification.pk
    assert event["payload"]["title"] == "新订单"
    assert event["payload"]["payload"] == {"order_id": 7}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_rolled_back_notification_is_neither_kept_nor_pushed(farmer):
    socket = await connected_socket(farmer)

    def notify_then_fail():
        with transaction.atomic():
            news_for(farmer)
            raise RuntimeError("the order was refused")

    with pytest.raises(RuntimeError):
        await sync_to_async(notify_then_fail)()

    assert await socket.receive_nothing(timeout=0.5)
    assert not await sync_to_async(Notification.objects.filter(user=farmer).exists)()
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_many_people_told_at_once_each_keep_their_own_and_get_it_pushed(farmer, buyer):
    farmer_socket = await connected_socket(farmer)
    buyer_socket = await connected_socket(buyer)

    def notify_both():
        with transaction.atomic():
            kept = notify_many(
                user_ids=[farmer.pk, buyer.pk, farmer.pk],  # a repeat is told once
                kind="recall.opened",
                title="召回",
                url="/trace/recalls/1/",
                payload={"recall_id": 1},
            )
            # Still inside the transaction: saved, not yet pushed.
            assert Notification.objects.filter(kind="recall.opened").count() == 2
        return kept

    kept = await sync_to_async(notify_both)()

    assert set(kept) == {farmer.pk, buyer.pk}
    for user, socket in ((farmer, farmer_socket), (buyer, buyer_socket)):
        event = await socket.receive_json_from(timeout=5)
        assert event["type"] == "recall.opened"
        assert event["payload"]["id"] == kept[user.pk].pk
        assert event["payload"]["title"] == "召回"
        assert event["payload"]["payload"] == {"recall_id": 1}
        assert await socket.receive_nothing(timeout=0.3)  # once each
        await socket.disconnect()
    saved = await sync_to_async(Notification.objects.get)(user=buyer)
    assert (saved.kind, saved.url, saved.read_at) == ("recall.opened", "/trace/recalls/1/", None)


@pytest.mark.django_db(transaction=True)
async def test_many_told_in_a_rolled_back_transaction_are_neither_kept_nor_pushed(farmer):
    socket = await connected_socket(farmer)

    def notify_then_fail():
        with transaction.atomic():
            notify_many(user_ids=[farmer.pk], kind="recall.opened", title="召回")
            raise RuntimeError("the recall was refused")

    with pytest.raises(RuntimeError):
        await sync_to_async(notify_then_fail)()

    assert await socket.receive_nothing(timeout=0.5)
    assert not await sync_to_async(Notification.objects.filter(user=farmer).exists)()
    await socket.disconnect()


# --- API ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_user_lists_only_own_notifications_with_the_unread_count(api_as, farmer, buyer):
    old = news_for(farmer, title="旧的")
    new = news_for(farmer, title="新的")
    news_for(buyer, title="别人的")
    Notification.objects.filter(pk=old.pk).update(read_at=old.created_at)

    response = api_as(farmer).get("/api/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [new.pk, old.pk]
    assert body["unread_count"] == 1
    assert body["results"][0]["title"] == "新的"
    assert body["results"][0]["read_at"] is None


@pytest.mark.django_db
def test_unread_filter_lists_only_unread(api_as, farmer):
    read = news_for(farmer)
    unread = news_for(farmer)
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)

    response = api_as(farmer).get("/api/notifications/", {"unread": "true"})

    assert [row["id"] for row in response.json()["results"]] == [unread.pk]


@pytest.mark.django_db
def test_marking_some_read_ignores_other_peoples_ids(api_as, farmer, buyer):
    first, second = news_for(farmer), news_for(farmer)
    theirs = news_for(buyer)

    response = api_as(farmer).post(
        "/api/notifications/read/", {"ids": [first.pk, theirs.pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread_count": 1}
    assert Notification.objects.get(pk=first.pk).read_at is not None
    assert Notification.objects.get(pk=second.pk).read_at is None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.django_db
def test_marking_all_read(api_as, farmer, buyer):
    news_for(farmer)
    news_for(farmer)
    theirs = news_for(buyer)

    response = api_as(farmer).post("/api/notifications/read/", {"all": True}, format="json")

    assert response.json() == {"marked": 2, "unread_count": 0}
    assert not Notification.objects.filter(user=farmer, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.django_db
def test_marking_read_needs_ids_or_all(api_as, farmer):
    news_for(farmer)

    response = api_as(farmer).post("/api/notifications/read/", {}, format="json")

    assert response.status_code == 400
    assert "ids" in response.json()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/notifications/"), ("post", "/api/notifications/read/")],
)
def test_notifications_need_a_signed_in_user(api_client, method, path):
    UserFactory()

    response = getattr(api_client, method)(path, {"all": True}, format="json")

    assert response.status_code == 401
