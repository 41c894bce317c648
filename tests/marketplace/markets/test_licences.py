"""Business licence numbers: the unified social credit code's check character, older
licences' 15 digits, and what a buyer types on a Chinese keyboard."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from farms.credit_codes import ALPHABET, check_character
from marketplace.markets.licences import (
    normalize_licence_number,
    validate_business_licence_number,
)

# Published codes of real companies (on their business licences).
REAL_CODES = ["91350100M000100Y43", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_are_accepted(code):
    validate_business_licence_number(code)


def test_an_older_licences_15_digits_are_accepted():
    validate_business_licence_number("110108001234567")


def test_full_width_characters_and_spaces_are_read_as_typed():
    assert normalize_licence_number("９１３５ 0100m000100y43") == "91350100M000100Y43"
    validate_business_licence_number("９１３５ 0100m000100y43")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("91350100M000100Y44", "credit_code_check"),
        ("91350100M000100YO3", "invalid_credit_code"),  # O is not in the code's alphabet
        ("9135010", "licence_length"),
        ("11010800123456A", "licence_length"),  # 15 characters, but not digits
        ("", "licence_length"),
    ],
)
def test_bad_numbers_are_refused_with_a_reason(number, code):
    with pytest.raises(ValidationError) as refused:
        validate_business_licence_number(number)

    assert refused.value.code == code


@given(
    st.text(alphabet=ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),  # the county's division code
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)
def test_every_code_with_its_check_character_is_accepted_and_any_other_refused(
    kind, county, organisation
):
    body = kind + county + organisation
    right = check_character(body)
    validate_business_licence_number(body + right)
    wrong = ALPHABET[(ALPHABET.index(right) + 1) % 31]
    with pytest.raises(ValidationError):
        validate_business_licence_number(body + wrong)
