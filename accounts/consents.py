"""Whether a person has agreed to the privacy policy in force (the pages ask her once after a
new version: accounts.middleware.ConsentMiddleware)."""

from .models import Consent, User
from .privacy import POLICY_VERSION


def needs_consent(user: User) -> bool:
    return not Consent.objects.filter(user=user, policy_version=POLICY_VERSION).exists()
