"""The unified social credit code (统一社会信用代码) of an organisation, GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):
registration authority (1), organisation type (1), the county's administrative division code
(6 digits), the organisation code (9, itself with a check character), and a check character
over the first 17, computed with weights 3^i mod 31.
"""

import unicodedata
from typing import Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH: Final = 18


def normalize_credit_code(raw: str) -> str:
    """Capitals, no spaces: 'full-width' characters of Chinese input methods become ASCII."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


def check_character(first_17: str) -> str:
    """The 18th character for the first 17: 31 - (Σ value × weight mod 31), 31 written 0."""
    total = sum(
        ALPHABET.index(char) * weight for char, weight in zip(first_17, WEIGHTS, strict=True)
    )
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """Refuses a code of the wrong length or alphabet, or with a wrong check character."""
    code = normalize_credit_code(value)
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        raise ValidationError(
            _(
                "Enter the 18-character unified social credit code: digits and capital "
                "letters (no I, O, S, V or Z)."
            ),
            code="invalid_credit_code",
        )
    # The division code (characters 3-8) is six digits.
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 of a unified social credit code are the county's digits."),
            code="invalid_credit_code",
        )
    if check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("This unified social credit code's check character is wrong: check for a typo."),
            code="credit_code_check",
        )
