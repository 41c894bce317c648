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
    def send(
        self, *, phone: str, text: str, template: str = "", params: dict[str, str] | None = None
    ) -> None:
        """Deliver one message to one normalised number (+86…); raise SmsNotSent if the
        provider refuses it. A provider sends only templates it approved: `template` names the
        kind of message ("code", …), `params` fill its blanks; `text` is the same message
        written out, for the outbox and for a provider that takes free text."""


class SmsNotSent(Exception):
    """The provider did not accept the message (its reason in the text)."""


@cache
def _backend(path: str) -> SmsBackend:
    return import_string(path)()


def send_sms(
    *, phone: str, text: str, template: str = "", params: dict[str, str] | None = None
) -> None:
    """Send `text` to `phone` (normalised, +86…) through the configured backend; `template`
    and `params` are the same message for a provider's approved template (SmsBackend)."""
    _backend(settings.SMS_BACKEND).send(phone=phone, text=text, template=template, params=params)
