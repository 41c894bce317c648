"""The rules of one-time codes: 6 digits, 5 minutes, single use, 5 wrong tries, one send per
number per minute and 10 a day, a limit per address, and no telling which numbers exist."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.utils import translation

from accounts.choices import CodePurpose
from accounts.exceptions import (
    CodeExpired,
    CodeNotSent,
    CodeSendTooSoon,
    CodeTriedTooOften,
    CodeUsed,
    InvalidPhone,
    TooManyCodes,
    WrongCode,
)
from accounts.models import PhoneCode
from accounts.services.codes import send_code, use_code
from common.exceptions import RefusalKind
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Refusals and texts in English: the assertions read the source strings."""
    with translation.override("en"):
        yield


PHONE = "+8613955550001"
ADDRESS = "203.0.113.7"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def age_codes(phone: str, *, seconds: int) -> None:
    """As if the codes to `phone` had been sent `seconds` earlier."""
    delta = timedelta(seconds=seconds)
    PhoneCode.objects.filter(phone=phone).update(
        sent_at=F("sent_at") - delta, expires_at=F("expires_at") - delta
    )


def test_a_code_is_six_digits_stored_only_as_a_keyed_hash(sms_outbox):
    sent = send_code(phone="139 5555 0001", purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    code = sms_outbox.last_code(PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert sent.phone == PHONE
    row = PhoneCode.objects.get(phone=PHONE)
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert str(row.client_address) == ADDRESS
    assert (row.expires_at - row.sent_at) == timedelta(minutes=5)


def test_code_opens_once(sms_outbox):
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    code = sms_outbox.last_code(PHONE)
    use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=code)
    with pytest.raises(CodeUsed):
        use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=code)


def test_code_for_one_purpose_opens_nothing_else(sms_outbox):
    UserFactory(phone=PHONE)
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_IN, address=ADDRESS)
    code = sms_outbox.last_code(PHONE)
    with pytest.raises(WrongCode):
        use_code(phone=PHONE, purpose=CodePurpose.PASSWORD_RESET, code=code)


def test_code_expires_after_five_minutes(sms_outbox):
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    code = sms_outbox.last_code(PHONE)
    age_codes(PHONE, seconds=5 * 60 + 1)
    with pytest.raises(CodeExpired) as refusal:
        use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=code)
    assert refusal.value.field == "code"


def test_sixth_try_is_refused_even_when_right(sms_outbox):
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    code = sms_outbox.last_code(PHONE)
    for _ in range(5):
        with pytest.raises(WrongCode):
            use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=wrong(code))
    assert PhoneCode.objects.get(phone=PHONE).attempts == 5
    with pytest.raises(CodeTriedTooOften) as refusal:
        use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=code)
    assert str(refusal.value.message) == "Too many tries with this code; ask for a new one."
    assert PhoneCode.objects.get(phone=PHONE).used_at is None


def test_fifth_try_right_still_opens(sms_outbox):
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    code = sms_outbox.last_code(PHONE)
    for _ in range(4):
        with pytest.raises(WrongCode):
            use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=wrong(code))
    use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=code)


def test_second_send_within_a_minute_is_refused_with_the_seconds_to_wait(sms_outbox):
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    age_codes(PHONE, seconds=20)
    with pytest.raises(CodeSendTooSoon) as refusal:
        send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    assert refusal.value.kind == RefusalKind.TOO_MANY
    assert refusal.value.field == "phone"
    assert refusal.value.details["retry_after"] == 40
    assert "40 seconds" in str(refusal.value.message)
    assert PhoneCode.objects.filter(phone=PHONE).count() == 1


def test_newer_code_replaces_the_older(sms_outbox):
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    first = sms_outbox.last_code(PHONE)
    age_codes(PHONE, seconds=61)
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    second = sms_outbox.last_code(PHONE)
    if first != second:
        with pytest.raises(WrongCode):
            use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=first)
    use_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, code=second)


def test_ten_codes_a_day_per_number(sms_outbox):
    for _ in range(10):
        send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=None)
        age_codes(PHONE, seconds=61)
    with pytest.raises(TooManyCodes):
        send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=None)
    age_codes(PHONE, seconds=24 * 3600)
    send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=None)


@override_settings(SMS_CODES_PER_ADDRESS_PER_HOUR=3)
def test_one_address_asking_codes_for_many_numbers_is_limited(sms_outbox):
    for n in range(3):
        send_code(phone=f"+861395555100{n}", purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    with pytest.raises(TooManyCodes) as refusal:
        send_code(phone="+8613955551009", purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    assert "network" in str(refusal.value.message)
    send_code(phone="+8613955551009", purpose=CodePurpose.SIGN_UP, address="198.51.100.1")


@pytest.mark.parametrize("bad", ["", "12345", "23800138000", "+1 415 555 0100", "138001380001"])
def test_invalid_numbers_are_refused_and_nothing_is_sent(bad, sms_outbox):
    with pytest.raises(InvalidPhone) as refusal:
        send_code(phone=bad, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    assert refusal.value.field == "phone"
    assert not PhoneCode.objects.exists()


def test_registered_and_unregistered_numbers_get_the_same_answer(sms_outbox):
    registered, unregistered = "+8613955552001", "+8613955552002"
    UserFactory(phone=registered)
    a = send_code(phone=registered, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    b = send_code(phone=unregistered, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    assert (a.resend_after_seconds, type(a)) == (b.resend_after_seconds, type(b))
    assert PhoneCode.objects.filter(phone=registered).count() == 1
    assert "already have" in sms_outbox.messages_to(registered)[-1]
    assert not re.search(r"\d{6}", sms_outbox.messages_to(registered)[-1])
    # The limits count both the same way.
    for phone in (registered, unregistered):
        with pytest.raises(CodeSendTooSoon):
            send_code(phone=phone, purpose=CodePurpose.SIGN_UP, address=ADDRESS)


def test_sign_in_code_for_an_unknown_number_sends_a_notice_that_opens_nothing(sms_outbox):
    phone = "+8613955553001"
    send_code(phone=phone, purpose=CodePurpose.SIGN_IN, address=ADDRESS)
    assert "no FreshChain account" in sms_outbox.messages_to(phone)[-1]
    for guess in ("000000", "123456"):
        with pytest.raises(WrongCode):
            use_code(phone=phone, purpose=CodePurpose.SIGN_IN, code=guess)


class RefusingBackend:
    def send(self, **message):
        from accounts.sms import SmsNotSent

        raise SmsNotSent("isv.BUSINESS_LIMIT_CONTROL")


@override_settings(SMS_BACKEND="tests.accounts.test_codes.RefusingBackend")
def test_a_refused_message_leaves_no_code_and_uses_no_limit():
    with pytest.raises(CodeNotSent):
        send_code(phone=PHONE, purpose=CodePurpose.SIGN_UP, address=ADDRESS)
    assert not PhoneCode.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_cannot_both_pass_the_minute_limit(sms_outbox):
    phone = "+8613955554001"
    screens = 4
    start = threading.Barrier(screens)
    sent, refused, failed = [], [], []

    def ask():
        try:
            start.wait()
            sent.append(send_code(phone=phone, purpose=CodePurpose.SIGN_UP, address=None))
        except CodeSendTooSoon as refusal:
            refused.append(refusal)
        except Exception as error:  # anything else fails the test below
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(screens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failed == []
    assert len(sent) == 1
    assert len(refused) == screens - 1
    assert PhoneCode.objects.filter(phone=phone).count() == 1
