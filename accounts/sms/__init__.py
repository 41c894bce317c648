"""Text messages to mobile phones, through the backend named by settings.SMS_BACKEND.

- accounts.sms.outbox.OutboxBackend (the default): appends each message to SMS_OUTBOX_PATH,
  one line `time<TAB>phone<TAB>text`, for development, the demo and the tests;
- provider adapters (Aliyun, Tencent Cloud) speak their HTTP APIs; their tests run against a
  local fake server.
"""

from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None:
        """Deliver one message to one normalised number (+86…); raise SmsNotSent if the
        provider refuses it."""


class SmsNotSent(Exception):
    """The provider did not accept the message (its reason in the text)."""


@cache
def _backend(path: str) -> SmsBackend:
    return import_string(path)()


def send_sms(*, phone: str, text: str) -> None:
    """Send `text` to `phone` (normalised, +86…) through the configured backend."""
    _backend(settings.SMS_BACKEND).send(phone=phone, text=text)
