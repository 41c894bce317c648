"""Business licence numbers, as a market asks a buyer for them when she applies for a card.

Since 2015 a business licence (营业执照) carries the 18-character unified social credit
code (统一社会信用代码, GB 32100-2015), whose last character is a check character over the
first seventeen; older licences still in use carry a 15-digit registration number.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The 31 characters of the code: digits and capitals without I, O, Z, S and V.
CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalize_licence_number(raw: str) -> str:
    """Full-width characters (Chinese input methods) to ASCII, spaces out, capitals."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def credit_code_check_character(first_seventeen: str) -> str:
    total = sum(
        CREDIT_CODE_CHARACTERS.index(character) * weight
        for character, weight in zip(first_seventeen, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARACTERS[(31 - total % 31) % 31]


def validate_business_licence_number(value: str) -> None:
    """An 18-character unified social credit code with a right check character, or an
    older licence's 15-digit registration number."""
    number = normalize_licence_number(value)
    if len(number) == 15 and number.isascii() and number.isdigit():
        return
    if len(number) != 18:
        raise ValidationError(
            _(
                "Enter the 18-character unified social credit code of the business licence, "
                "or the 15-digit number of an older licence."
            ),
            code="licence_length",
        )
    if any(character not in CREDIT_CODE_CHARACTERS for character in number):
        raise ValidationError(
            _(
                "A unified social credit code has digits and capital letters only, "
                "without I, O, S, V or Z."
            ),
            code="licence_characters",
        )
    if credit_code_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("The last character of this unified social credit code does not match: check it."),
            code="licence_check_character",
        )
