"""Builders of the courier onboarding tests: fresh phone numbers and the link of an SMS."""

import itertools
import re

from accounts.sms.outbox import messages_to

# 159… numbers: the user factory hands out 138… ones.
_numbers = itertools.count(1)
LINK = re.compile(r"/courier/join/([\w-]+)/")


def fresh_number() -> str:
    """A mobile number nobody has, as a person types it."""
    return f"159 {next(_numbers) + 7000:04d} {next(_numbers) + 5000:04d}"


def normal(number: str) -> str:
    return "+86" + number.replace(" ", "")


def link_secret(phone: str) -> str:
    """The secret of the newest invitation link sent to `phone`."""
    for text in reversed(messages_to(normal(phone) if " " in phone else phone)):
        found = LINK.search(text)
        if found:
            return found.group(1)
    raise AssertionError(f"no invitation was sent to {phone}")
