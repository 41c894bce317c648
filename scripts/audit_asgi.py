"""The ASGI application of `make audit`: the real one, plus the public uploads (listing
photos) under MEDIA_URL, which production's nginx serves (deploy/) and DEBUG-off Django does
not. Only for auditing on this machine."""

import mimetypes
from pathlib import Path

from django.conf import settings

from config.asgi import application as freshchain

MEDIA_ROOT = Path(settings.MEDIA_ROOT).resolve()


async def _send_file(send, path: Path | None) -> None:
    if path is None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", kind.encode()),
                (b"cache-control", b"public, max-age=604800"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": path.read_bytes()})


def _media_file(url_path: str) -> Path | None:
    path = (MEDIA_ROOT / url_path.removeprefix(settings.MEDIA_URL)).resolve()
    return path if path.is_file() and MEDIA_ROOT in path.parents else None


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith(settings.MEDIA_URL):
        await _send_file(send, _media_file(scope["path"]))
        return
    await freshchain(scope, receive, send)
