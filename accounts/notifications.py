"""In-app notifications: saved with the caller's transaction, pushed live after commit.

The row is written first and pushed only once the transaction commits, so a screen never
shows news that was rolled back, and a screen that was offline catches up from the API. A
push that fails (Redis down) is logged, never raised: the notification is saved all the same.
"""

import json
from collections.abc import Iterable
from functools import partial

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.realtime import send_many

from .models import Notification, User
from .realtime import push_to_user_after_commit, user_event, user_group_name

NOTIFICATION_EVENT = "notification"


def notify(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    payload: dict | None = None,
) -> Notification:
    """Keep a notification for `user` and push it to their open screens after commit.

    The live event is named by `kind` (e.g. `order.placed`) and carries the notification.
    """
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user,
            kind=kind,
            title=str(title)[:200],
            body=str(body)[:500],
            url=url,
            payload=payload or {},
        )
        push_to_user_after_commit(user.pk, kind, notification_as_event(notification))
    return notification


def notify_many(
    *,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    payload: dict | None = None,
) -> dict[int, Notification]:
    """`notify` for many people at once (a recall tells tens of thousands): the same
    notification kept for each user in one INSERT, and every push sent after commit by one
    callback over one channel-layer connection, not one callback per person. Returns each
    user's notification by user id.
    """
    told = list(dict.fromkeys(user_ids))
    title, body = str(title)[:200], str(body)[:500]
    payload = payload or {}
    created_at = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # One INSERT … SELECT over the ids: bulk_create spends seconds building and binding
        # tens of thousands of model rows.
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table}"
            " (user_id, kind, title, body, url, payload, created_at, read_at)"
            " SELECT user_id, %s, %s, %s, %s, %s::jsonb, %s, NULL"
            " FROM unnest(%s::bigint[]) AS told(user_id) RETURNING id, user_id",
            [kind, title, body, url, json.dumps(payload), created_at, told],
        )
        kept = {
            user_id: Notification(
                id=id_,
                user_id=user_id,
                kind=kind,
                title=title,
                body=body,
                url=url,
                payload=payload,
                created_at=created_at,
            )
            for id_, user_id in cursor.fetchall()
        }
        messages = [
            (
                user_group_name(user_id),
                user_event(kind, notification_as_event(kept[user_id])),
            )
            for user_id in told
        ]
        transaction.on_commit(partial(send_many, messages), robust=True)
    return {user_id: kept[user_id] for user_id in told}


def notification_as_event(notification: Notification) -> dict:
    """The JSON a live screen receives; the same fields the API lists."""
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "payload": notification.payload,
        "created_at": notification.created_at.isoformat(),
        "read_at": None,
    }


def mark_notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's own unread notifications read (the given ids, or all); returns how many.

    Ids of other people's notifications are ignored, never marked.
    """
    with transaction.atomic():
        unread = notifications_of(user).filter(read_at__isnull=True)
        if ids is not None:
            unread = unread.filter(pk__in=ids)
        return unread.update(read_at=timezone.now())


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(user: User) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()
