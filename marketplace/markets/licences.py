"""Business licence numbers, as a market asks a buyer for them when she applies for a card.

Since 2015 a business licence (营业执照) carries the 18-character unified social credit
code (统一社会信用代码, GB 32100-2015), checked as farms checks a co-operative's
(farms/credit_codes.py); older licences still in use carry a 15-digit registration number.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from farms.credit_codes import LENGTH, normalize_credit_code, validate_credit_code

OLD_LICENCE_LENGTH = 15


def normalize_licence_number(raw: str) -> str:
    """Full-width characters (Chinese input methods) to ASCII, spaces out, capitals."""
    return normalize_credit_code(raw)


def validate_business_licence_number(value: str) -> None:
    """An 18-character unified social credit code with a right check character, or an
    older licence's 15-digit registration number."""
    number = normalize_licence_number(value)
    if len(number) == OLD_LICENCE_LENGTH and number.isascii() and number.isdigit():
        return
    if len(number) != LENGTH:
        raise ValidationError(
            _(
                "Enter the 18-character unified social credit code of the business licence, "
                "or the 15-digit number of an older licence."
            ),
            code="licence_length",
        )
    validate_credit_code(number)
