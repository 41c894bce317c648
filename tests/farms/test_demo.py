"""The demo's co-operatives, and the application the demo admin has to review, seeded twice."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image

from accounts.models import User
from farms.choices import ApplicationStatus
from farms.credit_codes import validate_credit_code
from farms.models import Cooperative, CooperativeApplication
from farms.selectors import applications_to_review
from farms.services.applications import approve_application

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", force=True, stdout=StringIO())


def test_the_demo_admin_has_one_application_to_review_with_a_licence_photo():
    _seed()
    _seed()

    admin = User.objects.get(username="admin")
    (application,) = applications_to_review()
    assert application.applicant.username == "new.coop"
    assert application.status == ApplicationStatus.PENDING
    validate_credit_code(application.registration_code)
    with Image.open(Path(settings.PRIVATE_MEDIA_ROOT) / application.licence.name) as licence:
        assert licence.format == "JPEG"
        assert licence.width >= 600
    assert Cooperative.objects.count() == 3  # the demo's co-operatives are kept

    approve_application(reviewed_by=admin, application_id=application.pk)
    _seed()

    assert CooperativeApplication.objects.count() == 1  # reviewed, and not made again
    assert Cooperative.objects.count() == 4
