import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.choices import Role
from accounts.models import User
from tests.accounts.factories import UserFactory

INVALID_PHONE_MESSAGE = (
    "Enter a mainland China mobile number: 11 digits starting with 1, e.g. 138 0013 8000."
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spelling",
    [
        "13800138000",
        "+86 138 0013 8000",
        "8613800138000",
        "0086 138-0013-8000",
        "１３８００１３８０００",
    ],
)
def test_phone_is_stored_normalised_however_it_is_typed(spelling):
    user = User(username="wang", phone=spelling)

    user.full_clean(exclude=["password"])
    user.save()

    user.refresh_from_db()
    assert user.phone == "+8613800138000"


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "138001380001", "+1 415 555 0100"])
def test_invalid_phone_is_refused_with_a_translated_message(phone):
    user = User(username="wang", phone=phone)

    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            user.full_clean(exclude=["password"])
        # Messages are lazy: they take the language active when they are read.
        messages = refused.value.message_dict["phone"]

    assert INVALID_PHONE_MESSAGE in messages


@pytest.mark.django_db
def test_same_phone_in_another_spelling_is_refused_as_taken():
    UserFactory(phone="13800138000")
    user = User(username="li", phone="+86 138 0013 8000")

    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            user.full_clean(exclude=["password"])
        messages = refused.value.message_dict["phone"]

    assert messages == ["User with this Mobile phone already exists."]


@pytest.mark.django_db
def test_phone_errors_follow_the_active_language():
    user = User(username="wang", phone="+1 415 555 0100")

    with pytest.raises(ValidationError) as refused:
        user.full_clean(exclude=["password"])
    with translation.override("zh-hans"):
        chinese = refused.value.message_dict["phone"]
    with translation.override("en"):
        english = refused.value.message_dict["phone"]

    # Django's own length message comes from Django's catalogue; ours from locale/zh_Hans.
    assert "Ensure this value has at most 14 characters (it has 15)." in english
    assert INVALID_PHONE_MESSAGE in english
    assert "确保该变量包含不超过 14 字符 (目前字符数 15)。" in chinese
    assert "请输入中国大陆手机号：以 1 开头的 11 位数字，如 138 0013 8000。" in chinese


@pytest.mark.django_db
def test_blank_phone_is_stored_as_null_so_many_users_may_have_none():
    first = UserFactory(phone="")
    second = UserFactory(phone="")

    assert User.objects.filter(pk__in=[first.pk, second.pk], phone__isnull=True).count() == 2


@pytest.mark.django_db
def test_superuser_is_always_a_platform_admin():
    user = User.objects.create_superuser("root", password="x-long-password", role=Role.FARMER)

    user.refresh_from_db()
    assert user.role == Role.ADMIN
    assert user.is_platform_admin
