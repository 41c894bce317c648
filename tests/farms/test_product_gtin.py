"""A product's GTIN is checked the GS1 way before trace links are built on it."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from farms.models.catalogue import validate_gtin


@pytest.mark.parametrize("gtin", ["6901234567892", "96385074", "036000291452", "10614141000415"])
def test_real_gtins_pass(gtin):
    validate_gtin(gtin)


@pytest.mark.parametrize(
    ("gtin", "message"),
    [
        ("6901234567893", "check digit"),
        ("690123456789", "check digit"),
        ("69012345678", "digits"),
        ("69O1234567892", "digits"),
    ],
)
def test_a_wrong_gtin_is_refused_with_the_reason(gtin, message):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            validate_gtin(gtin)
        shown = str(refused.value.messages[0])

    assert message in shown
