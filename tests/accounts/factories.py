import factory
from django.contrib import auth
from django.test import RequestFactory

from accounts.choices import Role
from accounts.models import User

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


def authenticate(*, username: str, password: str):
    """Sign in as the sign-in page does it: the lock-out (django-axes) needs the request."""
    return auth.authenticate(
        RequestFactory().post("/sign-in/"), username=username, password=password
    )
