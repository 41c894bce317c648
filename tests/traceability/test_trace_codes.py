"""Trace codes: unguessable, typed back without fuss, and printed as links on our own host."""

import pytest
from django.test import override_settings

from traceability.codes import ALPHABET, CODE_LENGTH, grouped, new_code, normalise, trace_url


def test_codes_are_twelve_crockford_characters_and_do_not_repeat():
    codes = {new_code() for _ in range(2000)}

    assert len(codes) == 2000
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in codes)


@pytest.mark.parametrize(
    "typed",
    [
        "7K2MQ9XP4TDA",
        "7k2m-q9xp-4tda",
        " 7K2M Q9XP 4TDA ",
        "https://fresh.example.cn/t/7K2MQ9XP4TDA",
        "https://fresh.example.cn/01/06901234567892/10/SG-1/21/7K2MQ9XP4TDA",
    ],
)
def test_a_code_is_read_back_however_it_was_typed_or_scanned(typed):
    assert normalise(typed) == "7K2MQ9XP4TDA"


def test_letters_people_confuse_with_digits_are_read_as_the_digits():
    assert normalise("7K2M-Q9XP-4TDO") == "7K2MQ9XP4TD0"
    assert normalise("IK2MQ9XP4TDA") == "1K2MQ9XP4TDA"


@pytest.mark.parametrize("typed", ["", "7K2M", "7K2MQ9XP4TDA7", "7K2MQ9XP4TD!", "UUUUUUUUUUUU"])
def test_anything_else_is_no_code(typed):
    assert normalise(typed) == ""


def test_a_code_is_shown_in_groups_of_four():
    assert grouped("7K2MQ9XP4TDA") == "7K2M-Q9XP-4TDA"


@override_settings(SITE_URL="https://fresh.example.cn")
def test_the_link_is_a_digital_link_when_the_product_has_a_gtin():
    assert (
        trace_url(code="7K2MQ9XP4TDA", gtin="6901234567892", lot_code="SG 1/2")
        == "https://fresh.example.cn/01/06901234567892/10/SG%201%2F2/21/7K2MQ9XP4TDA"
    )
    assert trace_url(code="7K2MQ9XP4TDA") == "https://fresh.example.cn/t/7K2MQ9XP4TDA"
