"""A cap on the size of a request body, enforced before Django reads a byte of it.

Django's ASGI handler reads the whole body (into memory, then a temporary file) before any
middleware or view runs, and DRF's parsers read it without Django's DATA_UPLOAD_MAX_MEMORY_SIZE
check; so the cap sits in front of Django, in the ASGI app (config/asgi.py):

- a declared Content-Length over the limit is answered 413 at once, the body unread;
- a body without one (chunked) is counted as it arrives, and once past the limit Django is
  told the client went away (it then gives up without running the view) and the client gets
  the 413.

The limit is settings.MAX_REQUEST_BODY_BYTES, except for the few views that take a file and say
so with @request_body_limit (a photo, a logger's batch of readings). The view is found by
resolving the path, as Django will.
"""

import json
from collections.abc import Callable

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

# Room a multipart form takes around its file: boundaries, part headers and the other fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def request_body_limit(limit: Callable[[], int]):
    """Mark a view as taking bodies of up to limit() bytes (read at each request, so settings
    may change it). Decorates a view function, an APIView or ViewSet class, or a ViewSet
    action; the mark survives decorators that use functools.wraps."""

    def mark(view):
        view.request_body_limit = limit
        return view

    return mark


def body_limit_for(path: str, method: str) -> int:
    """The largest body the view at `path` takes for `method`, in bytes."""
    try:
        match = resolve(path)
    except Resolver404:
        return settings.MAX_REQUEST_BODY_BYTES
    view = match.func
    candidates: list[object] = [view]
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if view_class is not None:
        # A ViewSet routes each method to an action; an APIView to its method's handler.
        handler_name = (getattr(view, "actions", None) or {}).get(method.lower(), method.lower())
        candidates += [getattr(view_class, handler_name, None), view_class]
    for candidate in candidates:
        limit = getattr(candidate, "request_body_limit", None)
        if limit is not None:
            return limit()
    return settings.MAX_REQUEST_BODY_BYTES


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _declared_length(scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # Django answers a malformed header itself


def _language(scope) -> str:
    """The first language of the Accept-Language header the site speaks, else its own."""
    for code, _quality in parse_accept_lang_header(_header(scope, b"accept-language") or ""):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


async def _refuse(scope, send, limit: int) -> None:
    with translation.override(_language(scope)):
        detail = _("The request is too large: at most %(mb)s MB.") % {
            "mb": f"{limit / (1024 * 1024):.1f}"
        }
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    """ASGI middleware: HTTP requests with a body over the view's limit get 413 and never
    reach the view; other traffic (WebSockets, lifespan) passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        limit = body_limit_for(path, scope["method"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return

        received = 0
        too_large = False
        started = False

        async def counted_receive():
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if too_large and not started:
            await _refuse(scope, send, limit)
