"""The logger record of a handover (every reading and the truck's GPS trail) is private: kept
outside the public media folder under a random name, never at a /media/ URL, and downloaded
only through the shipment's checked views (page and API) by whoever may see the shipment;
in production nginx sends it (X-Accel-Redirect)."""

# The shared shipment fixtures come from test_shipments; tests take them as arguments.

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from coldchain import services
from coldchain.models import Handover
from tests.accounts.factories import UserFactory
from tests.farms.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "in_english")]

CSV_HEADER = b"recorded_at_asia_shanghai,"


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def loaded(planned, coldchain_controller):
    """`planned` (from the co-operative's packhouse), loaded: its loading record is attached."""
    return services.record_handover(
        shipment=planned,
        kind="loading",
        decision="accepted",
        probe_temperature_c=Decimal("1.5"),
        note="",
        by=coldchain_controller,
    )


@pytest.fixture
def other_manager(other_cooperative):
    """The manager of another co-operative, whose sites the shipment does not touch."""
    user = UserFactory(role=Role.COOPERATIVE_MANAGER)
    MembershipFactory(user=user, cooperative=other_cooperative, is_manager=True)
    return user


def page_url(handover) -> str:
    return f"/coldchain/shipments/{handover.shipment_id}/handover/{handover.kind}/record/"


def api_url(handover) -> str:
    return f"/api/coldchain/shipments/{handover.shipment_id}/handovers/{handover.kind}/record/"


def test_the_record_is_not_at_a_media_url(client, loaded, settings, media_root):
    settings.ROOT_URLCONF = "tests.media_urls"  # /media/ served as in development
    # Where it was saved before: named after the shipment's code, in the public media folder.
    old_name = timezone.localtime().strftime("coldchain/handovers/%Y/%m/") + (
        f"{loaded.shipment.code}-loading.csv"
    )

    old_url = client.get(f"{settings.MEDIA_URL}{old_name}")
    its_name = client.get(f"{settings.MEDIA_URL}{loaded.record_file.name}")

    assert (old_url.status_code, its_name.status_code) == (404, 404)
    assert not [path for path in (media_root / "media").rglob("*") if path.is_file()]


def test_the_record_is_kept_privately_under_a_random_name(loaded, media_root):
    stored = loaded.record_file

    assert stored.path.startswith(str(media_root / "private" / "coldchain" / "handovers"))
    assert loaded.shipment.code not in stored.name
    assert stored.read().startswith(CSV_HEADER)
    with pytest.raises(ValueError, match="no URL"):
        stored.url  # noqa: B018 - a private file has no URL to print


def test_the_owner_cooperative_downloads_the_record(loaded, manager, api_as):
    page = page_as(manager).get(page_url(loaded))
    api = api_as(manager).get(api_url(loaded))

    for answer in (page, api):
        assert answer.status_code == 200
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="{loaded.shipment.code}-loading.csv"' in answer["Content-Disposition"]
        assert b"".join(answer.streaming_content).startswith(CSV_HEADER)


def test_another_cooperative_gets_404(loaded, other_manager, api_as):
    page = page_as(other_manager).get(page_url(loaded))
    api = api_as(other_manager).get(api_url(loaded))

    assert (page.status_code, api.status_code) == (404, 404)


def test_a_missing_file_is_404_like_a_record_that_is_not_yours(loaded, manager, api_as):
    loaded.record_file.storage.delete(loaded.record_file.name)

    page = page_as(manager).get(page_url(loaded))
    api = api_as(manager).get(api_url(loaded))

    assert (page.status_code, api.status_code) == (404, 404)


def test_in_production_nginx_sends_the_record(loaded, manager, api_as, settings):
    settings.PRIVATE_MEDIA_ACCEL_PREFIX = "/_private/"

    page = page_as(manager).get(page_url(loaded))
    api = api_as(manager).get(api_url(loaded))

    for answer in (page, api):
        assert answer.status_code == 200
        assert answer["X-Accel-Redirect"] == f"/_private/{loaded.record_file.name}"
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        assert answer["Content-Disposition"] == (
            f'attachment; filename="{loaded.shipment.code}-loading.csv"'
        )
        assert not answer.streaming
        assert answer.content == b""


def test_the_migration_moves_a_public_record_to_the_private_folder(
    loaded, settings, django_capture_on_commit_callbacks
):
    migration = importlib.import_module("coldchain.migrations.0006_private_files")
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    old_name = public.save(
        f"coldchain/handovers/2026/01/{loaded.shipment.code}-loading.csv",
        ContentFile(b"recorded_at_asia_shanghai,temperature_c\n"),
    )
    Handover.objects.filter(pk=loaded.pk).update(record_file=old_name)

    with django_capture_on_commit_callbacks(execute=True):
        migration.to_private(apps, None)

    loaded.refresh_from_db()
    assert loaded.shipment.code not in loaded.record_file.name
    assert loaded.record_file.read() == b"recorded_at_asia_shanghai,temperature_c\n"
    assert not public.exists(old_name)


def test_the_admin_links_to_the_checked_download(loaded):
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = page_as(admin)

    shipment_page = client.get(f"/admin/coldchain/shipment/{loaded.shipment_id}/change/")
    download = client.get(page_url(loaded))

    assert shipment_page.status_code == 200
    assert f'href="{page_url(loaded)}"' in shipment_page.content.decode()
    assert b"".join(download.streaming_content).startswith(CSV_HEADER)
