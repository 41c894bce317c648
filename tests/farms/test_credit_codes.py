"""The unified social credit code's check character (GB 32100-2015)."""

import pytest
from django.core.exceptions import ValidationError

from farms.credit_codes import check_character, normalize_credit_code, validate_credit_code

# Codes of well-known companies, as printed on their business licences: registration authority
# 9 (market regulation), type 1 (a company) or 3 (a farmers' co-operative), the county's
# six-digit division code, the nine-character organisation code and the check character.
REAL_CODES = [
    "914403001922038216",  # Shenzhen 440300
    "91110108551385082Q",  # Beijing Haidian 110108
    "91110000802100433B",  # Beijing 110000
    "91350100M000100Y43",  # Fuzhou 350100
    "91330000MA27U0HW2A",  # Zhejiang 330000
    "93370781MA3C4XK27M",  # the demo co-operative, Qingzhou 370781
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code):
    validate_credit_code(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_other_check_character_is_refused(code):
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if wrong == code[17]:
            continue
        with pytest.raises(ValidationError) as refusal:
            validate_credit_code(code[:17] + wrong)
        assert refusal.value.code == "credit_code_check"


def test_a_check_of_31_is_written_0():
    body = "93440300192203821"  # weighted sum is a multiple of 31: 31 - 0 = 31, written 0
    values = [int(char) for char in body]
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

    assert sum(v * w for v, w in zip(values, weights, strict=True)) % 31 == 0
    assert check_character(body) == "0"
    validate_credit_code(body + "0")


def test_one_changed_character_is_caught():
    with pytest.raises(ValidationError):
        validate_credit_code("914403001922038226")


@pytest.mark.parametrize(
    "code",
    [
        "91440300192203821",  # 17 characters
        "9144030019220382160",  # 19
        "91440300192203821I",  # I is not in the alphabet (nor O, S, V, Z)
        "9144O3001922038216",
        "91AB0300192203821X",  # the division code is digits
        "",
    ],
)
def test_malformed_codes_are_refused(code):
    with pytest.raises(ValidationError):
        validate_credit_code(code)


def test_spaces_lower_case_and_full_width_characters_are_read():
    assert normalize_credit_code(" 9111 0108 5513 8508 2q ") == "91110108551385082Q"
    assert normalize_credit_code("９１１１０１０８５５１３８５０８２Ｑ") == "91110108551385082Q"
    validate_credit_code("91110108551385082q")
