"""China mainland mobile numbers: 11 digits starting 13–19, optionally 86 in front."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Country code written as 86, +86 or 0086 (the international dialling prefix).
MOBILE_PATTERN = re.compile(r"^(?:(?:\+|00)?86)?(1[3-9]\d{9})$", re.ASCII)
SEPARATORS = re.compile(r"[\s\-()]")


def normalize_phone(raw: str) -> str | None:
    """'+86 138-0013-8000' → '+8613800138000'; None when it is not a mainland mobile."""
    # NFKC turns the full-width digits and plus sign of Chinese input methods into ASCII.
    spelling = unicodedata.normalize("NFKC", raw or "")
    match = MOBILE_PATTERN.match(SEPARATORS.sub("", spelling))
    return f"+86{match.group(1)}" if match else None


def validate_china_mobile(value: str) -> None:
    if normalize_phone(value) is None:
        raise ValidationError(
            _(
                "Enter a mainland China mobile number: 11 digits starting with 1, e.g. 138 0013 8000."
            ),
            code="invalid_phone",
        )


def mask_phone(phone: str | None) -> str:
    """'+8613800138000' → '138****8000': what a courier or a seller sees of a number."""
    normal = normalize_phone(phone or "")
    if normal is None:
        return ""
    digits = normal[3:]
    return f"{digits[:3]}****{digits[-4:]}"
