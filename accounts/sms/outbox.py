"""The development SMS backend: messages go to a file instead of a phone."""

import fcntl
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings


class OutboxBackend:
    """Appends `time<TAB>phone<TAB>text` to settings.SMS_OUTBOX_PATH (var/sms/outbox.log)."""

    def send(
        self, *, phone: str, text: str, template: str = "", params: dict[str, str] | None = None
    ) -> None:
        path = Path(settings.SMS_OUTBOX_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = "\t".join((datetime.now(UTC).isoformat(), phone, text.replace("\n", " ")))
        with path.open("a", encoding="utf-8") as outbox:
            # Web and worker processes append at once; a lock keeps lines whole.
            fcntl.flock(outbox, fcntl.LOCK_EX)
            outbox.write(line + "\n")


def messages_to(phone: str) -> list[str]:
    """The texts sent to `phone` so far, oldest first (for the demo's helpers and tests)."""
    path = Path(settings.SMS_OUTBOX_PATH)
    if not path.exists():
        return []
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        _, to, text = line.split("\t", 2)
        if to == phone:
            texts.append(text)
    return texts
