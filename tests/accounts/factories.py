import factory
from django.conf import settings
from django.contrib import auth
from django.test import Client, RequestFactory

from accounts.choices import Role
from accounts.models import Consent, User
from accounts.privacy import POLICY_VERSION

PASSWORD = "fresh-pass-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    role = Role.BUYER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save()

    @factory.post_generation
    def consented(self, create, extracted, **kwargs):
        """People in tests have agreed to the privacy policy in force, as everyone who
        signed up has; UserFactory(consented=False) for one who has not (yet)."""
        if create and extracted is not False:
            Consent.objects.get_or_create(user=self, policy_version=POLICY_VERSION)


def authenticate(*, username: str, password: str):
    """Sign in as the sign-in page does it: the lock-out (django-axes) needs the request."""
    return auth.authenticate(
        RequestFactory().post("/sign-in/"), username=username, password=password
    )


SAME_SITE = (b"origin", b"http://localhost")


def session_cookie_for(user) -> tuple[bytes, bytes]:
    """The cookie header a browser signed in as `user` sends."""
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())
