"""A co-operative applies to join; the platform admin approves, asks for changes or declines."""

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Notification
from farms.choices import ApplicationStatus
from farms.exceptions import (
    ApplicationAlreadyOpen,
    ApplicationNotEditable,
    ApplicationNotReviewable,
    CannotApplyForCooperative,
    FarmsError,
    InvalidLicencePhoto,
    NotCooperativeManager,
    ReviewReasonRequired,
)
from farms.models import Cooperative, CooperativeApplication, Membership
from farms.services.applications import (
    ApplicationDetails,
    apply_for_cooperative,
    approve_application,
    decline_application,
    request_changes,
    resubmit_application,
)
from tests.accounts.factories import UserFactory
from tests.farms.factories import CooperativeFactory

pytestmark = pytest.mark.django_db

GOOD_CODE = "93370781MA3C4XK27M"
OTHER_GOOD_CODE = "91110108551385082Q"
BAD_CHECK_CODE = "93370781MA3C4XK27N"


def licence_photo(name: str = "licence.jpg", size=(800, 560), kind: str = "JPEG"):
    image = Image.new("RGB", size, (250, 247, 238))
    out = io.BytesIO()
    image.save(out, format=kind)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{kind.lower()}")


def form_fields(**overrides) -> dict:
    return {
        "name": "青州市绿源蔬菜专业合作社",
        "registration_code": GOOD_CODE,
        "province": "山东省",
        "region": "潍坊市青州市",
        "contact_name": "何丽华",
        "contact_phone": "13800000020",
        **overrides,
    }


def details(**overrides) -> ApplicationDetails:
    fields = form_fields(**overrides)
    fields.setdefault("licence", licence_photo())
    return ApplicationDetails(**fields)


@pytest.fixture
def applicant(consumer):
    return consumer


@pytest.fixture
def application(applicant):
    return apply_for_cooperative(applicant=applicant, details=details())


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service with its after-commit SMS sent, as a committed transaction would."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


# Applying


def test_a_consumer_applies_and_the_licence_is_kept_privately(applicant):
    application = apply_for_cooperative(applicant=applicant, details=details())

    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert application.applicant == applicant
    assert application.registration_code == GOOD_CODE
    assert application.contact_phone == "+8613800000020"
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / application.licence.name
    assert stored.exists()
    assert not (Path(settings.MEDIA_ROOT) / application.licence.name).exists()
    assert "licence.jpg" not in application.licence.name  # a random name, not hers
    with Image.open(stored) as kept:
        assert kept.format == "JPEG"
    with pytest.raises(ValueError, match="no URL"):
        application.licence.url  # noqa: B018 - a private file has no URL


def test_a_buyer_may_apply_too(buyer):
    application = apply_for_cooperative(applicant=buyer, details=details())

    assert application.status == ApplicationStatus.PENDING


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"registration_code": BAD_CHECK_CODE}, "registration_code"),
        ({"registration_code": "9337078"}, "registration_code"),
        ({"name": ""}, "name"),
        ({"name": "社" * 121}, "name"),
        ({"province": ""}, "province"),
        ({"region": ""}, "region"),
        ({"contact_name": ""}, "contact_name"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"licence": SimpleUploadedFile("licence.pdf", b"%PDF-1.4 not an image")}, "licence"),
        ({"licence": SimpleUploadedFile("licence.jpg", b"")}, "licence"),
        ({"licence": None}, "licence"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(applicant, overrides, field):
    with pytest.raises(FarmsError) as refusal:
        apply_for_cooperative(applicant=applicant, details=details(**overrides))

    assert refusal.value.field == field
    assert not CooperativeApplication.objects.exists()


def test_a_too_large_licence_is_refused(applicant, settings):
    settings.COOPERATIVE_LICENCE_MAX_BYTES = 1024 * 1024
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    big = SimpleUploadedFile("licence.png", out.getvalue(), content_type="image/png")
    assert big.size > 1024 * 1024

    with translation.override("en"), pytest.raises(InvalidLicencePhoto) as refusal:
        apply_for_cooperative(applicant=applicant, details=details(licence=big))

    assert refusal.value.field == "licence"
    assert str(refusal.value.message) == "This photo is too large: at most 1 MB."
    assert not CooperativeApplication.objects.exists()


def test_a_second_application_while_one_is_open_is_refused(applicant, application):
    with pytest.raises(ApplicationAlreadyOpen) as refusal:
        apply_for_cooperative(
            applicant=applicant,
            details=details(name="另一个合作社", registration_code=OTHER_GOOD_CODE),
        )

    assert refusal.value.field == "name"
    assert CooperativeApplication.objects.count() == 1


def test_a_taken_name_or_code_is_refused(applicant):
    CooperativeFactory(name="青州市绿源蔬菜专业合作社")
    CooperativeFactory(registration_code=OTHER_GOOD_CODE)

    with pytest.raises(FarmsError) as by_name:
        apply_for_cooperative(applicant=applicant, details=details())
    with pytest.raises(FarmsError) as by_code:
        apply_for_cooperative(
            applicant=applicant,
            details=details(name="新名字合作社", registration_code=OTHER_GOOD_CODE),
        )

    assert by_name.value.field == "name"
    assert by_code.value.field == "registration_code"
    assert not CooperativeApplication.objects.exists()


@pytest.mark.parametrize("role", [Role.COURIER, Role.MARKET_OPERATOR, Role.WAREHOUSE_MANAGER])
def test_staff_roles_cannot_apply(role):
    with pytest.raises(CannotApplyForCooperative):
        apply_for_cooperative(applicant=UserFactory(role=role), details=details())

    assert not CooperativeApplication.objects.exists()


def test_a_member_of_a_cooperative_cannot_apply(member):
    with pytest.raises(CannotApplyForCooperative):
        apply_for_cooperative(applicant=member, details=details())


# Reviewing


def test_approval_creates_the_cooperative_with_her_as_manager(
    committed, admin_user, applicant, application, sms_outbox
):
    texts_before = len(sms_outbox.messages_to(applicant.phone))

    cooperative = committed(
        approve_application,
        reviewed_by=admin_user,
        application_id=application.pk,
        address="10.1.2.3",
    )

    assert cooperative.name == "青州市绿源蔬菜专业合作社"
    assert cooperative.registration_code == GOOD_CODE
    assert (cooperative.province, cooperative.region) == ("山东省", "潍坊市青州市")
    membership = Membership.objects.get(user=applicant)
    assert membership.cooperative == cooperative
    assert membership.is_manager
    applicant.refresh_from_db()
    assert applicant.role == Role.COOPERATIVE_MANAGER
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.cooperative == cooperative
    assert application.reviewed_by == admin_user
    approved = AuditEntry.objects.get(action=AuditAction.COOPERATIVE_APPLICATION_APPROVED)
    assert (approved.actor, approved.subject) == (admin_user, applicant)
    assert approved.client_address == "10.1.2.3"
    assert "何丽华" not in str(approved.changes) + approved.object_label
    assert "13800000020" not in str(approved.changes) + approved.object_label
    role_change = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED, subject=applicant)
    assert role_change.changes == {"role": ["consumer", "cooperative_manager"]}
    assert (
        Notification.objects.get(user=applicant).url
        == f"/cooperatives/applications/{application.pk}/"
    )
    (text,) = sms_outbox.messages_to(applicant.phone)[texts_before:]
    assert cooperative.name in text


def test_approval_is_refused_when_the_name_was_taken_meanwhile(admin_user, applicant, application):
    CooperativeFactory(name=application.name)

    with pytest.raises(FarmsError) as refusal:
        approve_application(reviewed_by=admin_user, application_id=application.pk)

    assert refusal.value.field == "name"
    applicant.refresh_from_db()
    assert applicant.role == Role.CONSUMER
    assert not Membership.objects.filter(user=applicant).exists()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert not AuditEntry.objects.filter(action=AuditAction.ROLE_CHANGED).exists()


def test_approval_is_refused_when_the_code_was_taken_meanwhile(admin_user, application):
    CooperativeFactory(registration_code=GOOD_CODE)

    with pytest.raises(FarmsError) as refusal:
        approve_application(reviewed_by=admin_user, application_id=application.pk)

    assert refusal.value.field == "registration_code"
    assert Cooperative.objects.count() == 1


def test_ask_for_changes_round_trip(committed, admin_user, applicant, application, sms_outbox):
    returned = committed(
        request_changes,
        reviewed_by=admin_user,
        application_id=application.pk,
        reason="营业执照照片不清楚，请重新拍摄。",
    )

    assert returned.status == ApplicationStatus.CHANGES_REQUESTED
    assert "营业执照照片不清楚" in sms_outbox.messages_to(applicant.phone)[-1]
    assert Notification.objects.get(user=applicant).body == "营业执照照片不清楚，请重新拍摄。"
    assert AuditEntry.objects.filter(action=AuditAction.COOPERATIVE_APPLICATION_RETURNED).exists()
    with pytest.raises(ApplicationNotReviewable):
        approve_application(reviewed_by=admin_user, application_id=application.pk)
    # She cannot open a second one meanwhile: she edits this one.
    with pytest.raises(ApplicationAlreadyOpen):
        apply_for_cooperative(applicant=applicant, details=details(name="又一个合作社"))

    old_licence = application.licence.name
    resubmitted = resubmit_application(
        applicant=applicant,
        application_id=application.pk,
        details=details(region="潍坊市青州市谭坊镇", licence=licence_photo("new.png", kind="PNG")),
    )

    assert resubmitted.status == ApplicationStatus.PENDING
    assert resubmitted.region == "潍坊市青州市谭坊镇"
    assert resubmitted.licence.name != old_licence
    cooperative = approve_application(reviewed_by=admin_user, application_id=application.pk)
    assert cooperative.region == "潍坊市青州市谭坊镇"


def test_resubmitting_without_a_photo_keeps_the_old_one(admin_user, applicant, application):
    request_changes(reviewed_by=admin_user, application_id=application.pk, reason="地址不全")
    old_licence = application.licence.name

    resubmitted = resubmit_application(
        applicant=applicant, application_id=application.pk, details=details(licence=None)
    )

    assert resubmitted.licence.name == old_licence


def test_a_pending_application_cannot_be_edited(applicant, application):
    with pytest.raises(ApplicationNotEditable):
        resubmit_application(
            applicant=applicant, application_id=application.pk, details=details(region="别处")
        )


def test_decline_needs_a_reason_and_lets_her_apply_again(
    committed, admin_user, applicant, application, sms_outbox
):
    with pytest.raises(ReviewReasonRequired) as refusal:
        decline_application(reviewed_by=admin_user, application_id=application.pk, reason="  ")
    assert refusal.value.field == "reason"

    declined = committed(
        decline_application,
        reviewed_by=admin_user,
        application_id=application.pk,
        reason="统一社会信用代码与执照不符。",
    )

    assert declined.status == ApplicationStatus.DECLINED
    assert declined.reason == "统一社会信用代码与执照不符。"
    assert "统一社会信用代码与执照不符" in sms_outbox.messages_to(applicant.phone)[-1]
    assert AuditEntry.objects.filter(action=AuditAction.COOPERATIVE_APPLICATION_DECLINED).exists()
    assert not Cooperative.objects.exists()
    again = apply_for_cooperative(applicant=applicant, details=details())
    assert again.status == ApplicationStatus.PENDING


def test_asking_changes_needs_a_reason(admin_user, application):
    with pytest.raises(ReviewReasonRequired):
        request_changes(reviewed_by=admin_user, application_id=application.pk, reason="")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING


def test_only_the_platform_admin_reviews(application, manager, applicant):
    for someone in (manager, applicant):
        with pytest.raises(NotCooperativeManager):
            approve_application(reviewed_by=someone, application_id=application.pk)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert not Cooperative.objects.filter(name=application.name).exists()


# Pages


def test_newcomers_find_the_way_in(english, consumer, buyer):
    sign_in = english.get("/sign-in/").content.decode()
    assert "/sign-up/?next=%2Fcooperatives%2Fapply%2F" in sign_in
    for person in (consumer, buyer):
        english.force_login(person)
        assert "/cooperatives/apply/" in english.get("/workspace/", follow=True).content.decode()


def test_apply_page_sends_an_application(english, applicant):
    english.force_login(applicant)

    form = english.get("/cooperatives/apply/")
    response = english.post(
        "/cooperatives/apply/", {**form_fields(), "licence": licence_photo()}, follow=True
    )

    assert form.context["form"]["contact_phone"].value() == applicant.phone
    application = CooperativeApplication.objects.get(applicant=applicant)
    assert response.redirect_chain[-1][0] == f"/cooperatives/applications/{application.pk}/"
    page = response.content.decode()
    assert "Your application was sent" in page
    assert "Waiting for review" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"registration_code": BAD_CHECK_CODE},
            "registration_code",
            "This unified social credit code's check character is wrong: check for a typo.",
        ),
        (
            {"licence": SimpleUploadedFile("licence.jpg", b"GIF89a not really")},
            "licence",
            "Upload the business licence as a JPEG, PNG or WebP photo.",
        ),
    ],
)
def test_apply_page_shows_bad_input_on_its_field(english, applicant, overrides, field, message):
    english.force_login(applicant)

    response = english.post(
        "/cooperatives/apply/", {**form_fields(), "licence": licence_photo(), **overrides}
    )

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not CooperativeApplication.objects.exists()


def test_apply_page_errors_are_translated(client, applicant):
    client.force_login(applicant)

    response = client.post(
        "/cooperatives/apply/",
        {**form_fields(registration_code=BAD_CHECK_CODE), "licence": licence_photo()},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.context["form"].errors["registration_code"] == [
        "统一社会信用代码的校验码不对：请检查是否输错。"
    ]


def test_apply_page_takes_her_to_her_open_application(english, applicant, application):
    english.force_login(applicant)

    response = english.get("/cooperatives/apply/")

    assert response.status_code == 302
    assert response.url == f"/cooperatives/applications/{application.pk}/"


def test_signed_out_apply_page_asks_to_sign_in(client):
    response = client.get("/cooperatives/apply/")

    assert response.status_code == 302
    assert response.url.startswith("/sign-in/")


def test_application_and_licence_are_seen_by_her_and_the_admin_only(
    client, applicant, application, admin_user, buyer, manager
):
    page = f"/cooperatives/applications/{application.pk}/"
    licence = f"/cooperatives/applications/{application.pk}/licence/"
    for allowed in (applicant, admin_user):
        client.force_login(allowed)
        assert client.get(page).status_code == 200
        shown = client.get(licence)
        assert shown.status_code == 200
        assert shown["Content-Type"] == "image/jpeg"
        assert shown["Cache-Control"].startswith("max-age=0")
    for other in (buyer, manager):
        client.force_login(other)
        assert client.get(page).status_code == 404
        assert client.get(licence).status_code == 404
    client.logout()
    assert client.get(licence).status_code == 302


def test_review_list_is_the_admins_only(client, application, admin_user, applicant, manager):
    client.force_login(admin_user)
    listed = client.get("/cooperatives/applications/")
    assert [a.pk for a in listed.context["applications"]] == [application.pk]
    for other in (applicant, manager):
        client.force_login(other)
        assert client.get("/cooperatives/applications/").status_code == 403
        review = client.post(
            f"/cooperatives/applications/{application.pk}/review/", {"decision": "approve"}
        )
        assert review.status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING


def test_admin_approves_on_the_page(english, admin_user, applicant, application):
    english.force_login(admin_user)

    detail = english.get(f"/cooperatives/applications/{application.pk}/")
    response = english.post(
        f"/cooperatives/applications/{application.pk}/review/",
        {"decision": "approve"},
        follow=True,
    )

    assert detail.context["review_form"] is not None
    assert "was created, with the applicant as its manager" in response.content.decode()
    assert Membership.objects.get(user=applicant).is_manager


def test_admin_must_give_a_reason_to_decline_on_the_page(english, admin_user, application):
    english.force_login(admin_user)

    response = english.post(
        f"/cooperatives/applications/{application.pk}/review/", {"decision": "decline"}
    )

    assert response.status_code == 400
    assert response.context["review_form"].errors["reason"] == [
        "Tell the applicant why (at most 1000 characters)."
    ]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING


def test_approval_of_a_taken_name_shows_on_the_page(english, admin_user, application):
    CooperativeFactory(name=application.name)
    english.force_login(admin_user)

    response = english.post(
        f"/cooperatives/applications/{application.pk}/review/", {"decision": "approve"}
    )

    assert response.status_code == 400
    assert "A co-operative with this name exists." in response.content.decode()


def test_she_reads_the_reason_and_corrects_on_the_page(english, admin_user, applicant, application):
    request_changes(reviewed_by=admin_user, application_id=application.pk, reason="请补充县名")
    english.force_login(applicant)

    shown = english.get(f"/cooperatives/applications/{application.pk}/")
    response = english.post(
        f"/cooperatives/applications/{application.pk}/",
        form_fields(region="潍坊市青州市王府街道"),
        follow=True,
    )

    assert "请补充县名" in shown.content.decode()
    assert shown.context["edit_form"]["name"].value() == application.name
    assert "Your application was sent again for review." in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert application.region == "潍坊市青州市王府街道"


# API


def test_api_apply_and_list_my_applications(api_as, applicant, buyer):
    client = api_as(applicant)

    created = client.post(
        "/api/cooperatives/applications/",
        {**form_fields(), "licence": licence_photo()},
        format="multipart",
    )
    apply_for_cooperative(
        applicant=buyer,
        details=details(name="别人的合作社", registration_code=OTHER_GOOD_CODE),
    )
    mine = client.get("/api/cooperatives/applications/")

    assert created.status_code == 201, created.data
    assert created.data["status"] == "pending"
    assert created.data["licence_url"] == (
        f"/api/cooperatives/applications/{created.data['id']}/licence/"
    )
    assert [row["id"] for row in mine.data["results"]] == [created.data["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"registration_code": BAD_CHECK_CODE}, "registration_code"),
        ({"licence": SimpleUploadedFile("a.txt", b"hello")}, "licence"),
        ({"contact_phone": "555"}, "contact_phone"),
    ],
)
def test_api_bad_input_is_a_field_error(api_as, applicant, overrides, field):
    response = api_as(applicant).post(
        "/api/cooperatives/applications/",
        {**form_fields(), "licence": licence_photo(), **overrides},
        format="multipart",
    )

    assert response.status_code == 400
    assert list(response.data) == [field]
    assert not CooperativeApplication.objects.exists()


def test_api_second_application_is_a_field_error(api_as, applicant, application):
    response = api_as(applicant).post(
        "/api/cooperatives/applications/",
        {**form_fields(name="第二个"), "licence": licence_photo()},
        format="multipart",
    )

    assert response.status_code == 409
    assert list(response.data) == ["name"]
    assert CooperativeApplication.objects.count() == 1


def test_api_others_see_nothing_of_her_application(api_as, application, buyer, manager):
    for other in (buyer, manager):
        client = api_as(other)
        assert client.get("/api/cooperatives/applications/").data["results"] == []
        detail = client.get(f"/api/cooperatives/applications/{application.pk}/")
        assert detail.status_code == 404
        licence = client.get(f"/api/cooperatives/applications/{application.pk}/licence/")
        assert licence.status_code == 404
        review = client.post(
            f"/api/cooperatives/applications/{application.pk}/review/", {"decision": "approve"}
        )
        assert review.status_code == 403


def test_api_signed_out_gets_nothing(api_client, application):
    assert api_client.get("/api/cooperatives/applications/").status_code in (401, 403)
    assert api_client.get(
        f"/api/cooperatives/applications/{application.pk}/licence/"
    ).status_code in (401, 403)


def test_api_admin_lists_pending_and_reviews(api_as, admin_user, applicant, application):
    client = api_as(admin_user)

    pending = client.get("/api/cooperatives/applications/?status=pending")
    no_reason = client.post(
        f"/api/cooperatives/applications/{application.pk}/review/", {"decision": "return"}
    )
    returned = client.post(
        f"/api/cooperatives/applications/{application.pk}/review/",
        {"decision": "return", "reason": "请上传清晰的执照照片"},
    )
    licence = client.get(f"/api/cooperatives/applications/{application.pk}/licence/")

    assert [row["id"] for row in pending.data["results"]] == [application.pk]
    assert no_reason.status_code == 400
    assert list(no_reason.data) == ["reason"]
    assert returned.status_code == 200
    assert returned.data["status"] == "changes_requested"
    assert returned.data["reason"] == "请上传清晰的执照照片"
    assert licence.status_code == 200

    resubmitted = api_as(applicant).post(
        f"/api/cooperatives/applications/{application.pk}/resubmit/",
        form_fields(province="山东"),
        format="multipart",
    )
    assert resubmitted.status_code == 200, resubmitted.data
    assert resubmitted.data["status"] == "pending"

    approved = api_as(admin_user).post(
        f"/api/cooperatives/applications/{application.pk}/review/", {"decision": "approve"}
    )
    assert approved.status_code == 200
    assert approved.data["status"] == "approved"
    assert Cooperative.objects.get(pk=approved.data["cooperative"]).province == "山东"
