"""Request bodies are capped in front of Django, in the ASGI app: a body over the cap gets 413
with a short JSON error and the view never runs (nothing changes), whether its size was
declared (Content-Length) or not (chunked). The views that take a file allow more: a photo, a
logger's batch of readings. Tests drive the real ASGI app (config.asgi) in this test's
transaction, as Django's own async test client does."""

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.core import signals
from django.db import close_old_connections
from django.test import Client

from accounts.models import Notification
from accounts.notifications import notify

pytestmark = pytest.mark.django_db

CSRF = "k" * 32  # a valid CSRF secret, sent as cookie and header alike
MB = 1024 * 1024


@pytest.fixture
def asgi_post():
    """asgi_post(path, content, headers=...) → the ASGI app's answer (an httpx.Response)."""
    from config.asgi import application

    # Closing "old" connections at each request would end this test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    async def post(path, content, headers):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            return await client.post(path, content=content, headers=headers)

    try:
        yield lambda path, content, headers=None: async_to_sync(post)(path, content, headers or {})
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def signed_in(buyer):
    """The headers of `buyer`'s session, with the CSRF token the API asks of it."""
    client = Client()
    client.force_login(buyer)
    return {
        "cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}",
        "x-csrftoken": CSRF,
        "origin": "https://testserver",
        "content-type": "application/json",
        "accept-language": "en",
    }


@pytest.fixture
def unread(buyer):
    return notify(user=buyer, kind="test.note", title="Lettuce arrived")


def mark_all_read(padding: int) -> bytes:
    """`{"all": true}`, padded with whitespace (valid JSON) to `padding` more bytes."""
    return b'{"all": true}' + b" " * padding


def chunks(body: bytes, size: int = 64 * 1024):
    async def stream():
        for start in range(0, len(body), size):
            yield body[start : start + size]

    return stream()


def test_a_body_within_the_cap_reaches_the_view(asgi_post, signed_in, unread):
    answer = asgi_post("/api/notifications/read/", mark_all_read(1000), signed_in)

    assert answer.status_code == 200, answer.text
    assert Notification.objects.get(pk=unread.pk).read_at is not None


def test_a_declared_body_over_the_cap_is_refused_before_the_view_runs(
    asgi_post, signed_in, unread, settings
):
    answer = asgi_post(
        "/api/notifications/read/", mark_all_read(settings.MAX_REQUEST_BODY_BYTES), signed_in
    )

    assert answer.status_code == 413
    assert answer.json() == {"detail": "The request is too large: at most 2.0 MB."}
    assert Notification.objects.get(pk=unread.pk).read_at is None


def test_a_chunked_body_growing_over_the_cap_is_refused_before_the_view_runs(
    asgi_post, signed_in, unread, settings
):
    body = chunks(mark_all_read(settings.MAX_REQUEST_BODY_BYTES))

    answer = asgi_post("/api/notifications/read/", body, signed_in)

    assert answer.status_code == 413
    assert "content-length" not in answer.request.headers  # sent chunked
    assert Notification.objects.get(pk=unread.pk).read_at is None


def test_the_refusal_speaks_the_language_asked_for(asgi_post, signed_in, settings):
    headers = {**signed_in, "accept-language": "zh-CN,zh;q=0.9"}

    answer = asgi_post("/api/notifications/read/", mark_all_read(3 * MB), headers)

    assert answer.status_code == 413
    assert answer.json()["detail"] != "The request is too large: at most 2.0 MB."
    assert "2.0" in answer.json()["detail"]


def test_a_logger_batch_may_be_larger_than_the_default_cap(asgi_post):
    # 10,000 indented readings with every field measure 2.6-3.1 MB: this one reaches the view,
    # which asks the logger to authenticate.
    big_batch = asgi_post("/api/coldchain/readings/", b" " * (3 * MB), {"content-type": "text/csv"})
    too_big = asgi_post("/api/coldchain/readings/", b" " * (5 * MB), {"content-type": "text/csv"})

    assert big_batch.status_code == 401
    assert too_big.status_code == 413


def test_a_photo_upload_may_be_as_large_as_a_photo(asgi_post, settings):
    settings.LISTING_PHOTO_MAX_BYTES = 3 * MB
    headers = {"content-type": "multipart/form-data; boundary=x"}

    photo = asgi_post("/api/listings/1/photos/", b" " * (3 * MB), headers)
    too_big = asgi_post("/api/listings/1/photos/", b" " * (4 * MB), headers)
    elsewhere = asgi_post("/api/listings/", b" " * (3 * MB), headers)

    assert photo.status_code == 401  # the view ran: who is asking?
    assert (too_big.status_code, elsewhere.status_code) == (413, 413)
