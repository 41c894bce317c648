"""Trace codes and the links printed around them.

A code is 12 characters of Crockford base32 (no I, L, O, U): 60 random bits, so codes cannot be
guessed or walked, and short enough to type at a gate when a camera fails. Shown in groups of
four (`7K2M-Q9XP-4TDA`); typed input is normalised the Crockford way (I, L → 1; O → 0).
"""

import secrets
from urllib.parse import quote

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(typed: str) -> str:
    """The code someone typed or a scanner read: a whole trace URL, or the code with any
    spacing, hyphens or case; '' when it cannot be a code."""
    text = (typed or "").strip()
    if "/" in text:  # a scanned URL: /t/<code> or a Digital Link ending /21/<code>
        text = text.rstrip("/").rsplit("/", 1)[-1]
    code = "".join(ch for ch in text.upper() if ch not in " -").translate(_TYPED)
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return ""
    return code


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def trace_path(*, code: str, gtin: str = "", lot_code: str = "") -> str:
    """The path a label's QR opens: a GS1 Digital Link (/01/<GTIN-14>/10/<lot>/21/<code>, the
    code as the label's serial) when the product has a GTIN, else /t/<code>. Both open the same
    page; /01/<GTIN>/10/<lot> without the serial opens the lot's page too."""
    if gtin and lot_code:
        return f"/01/{gtin.zfill(14)}/10/{quote(lot_code, safe='')}/21/{code}"
    return f"/t/{code}"


def trace_url(*, code: str, gtin: str = "", lot_code: str = "") -> str:
    """The absolute URL on the platform's own host (SITE_URL), never a request's Host."""
    return settings.SITE_URL + trace_path(code=code, gtin=gtin, lot_code=lot_code)
