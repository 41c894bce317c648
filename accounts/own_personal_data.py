"""The accounts app's section of her personal data: her profile, consents, notifications,
call-back requests, the audit entries about her; and, on deletion, everything of hers that
only signs her in or reaches her (codes, tokens, sessions, lock-out counters)."""

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from .models import AuditEntry, CallbackRequest, Consent, Notification, PhoneCode, User
from .personal_data import name_spellings, phone_spellings, register_section, replace_in_text
from .phone import mask_phone

# The newest of her notifications and audit entries in an export; older ones are summed up.
EXPORT_LIMIT = 500


def _at(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_account(user: User) -> dict[str, Any]:
    notifications = Notification.objects.filter(user=user).order_by("-created_at", "-id")
    audit = AuditEntry.objects.filter(Q(subject=user) | Q(actor=user)).order_by("-at", "-id")
    return {
        "profile": {
            "id": user.pk,
            "username": user.username,
            "display_name": user.display_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "phone": user.phone,
            "role": user.role,
            "weight_unit": user.weight_unit,
            "date_joined": _at(user.date_joined),
            "last_login": _at(user.last_login),
        },
        "consents": [
            {
                "policy_version": consent.policy_version,
                "agreed_at": _at(consent.agreed_at),
                "from_address": consent.client_address,
            }
            for consent in Consent.objects.filter(user=user).order_by("agreed_at")
        ],
        "notifications_total": notifications.count(),
        "notifications": [
            {
                "kind": note.kind,
                "title": note.title,
                "text": note.body,
                "link": note.url,
                "created_at": _at(note.created_at),
                "read_at": _at(note.read_at),
            }
            for note in notifications[:EXPORT_LIMIT]
        ],
        "callback_requests": [
            {
                "asked_of_you": callback.person_id == user.pk,
                "about": callback.about,
                "asked_at": _at(callback.created_at),
            }
            for callback in CallbackRequest.objects.filter(
                Q(person=user) | Q(requester=user)
            ).order_by("-created_at")[:EXPORT_LIMIT]
        ],
        "audit_log_total": audit.count(),
        "audit_log": [
            {
                "at": _at(entry.at),
                "action": entry.action,
                "by_you": entry.actor_id == user.pk,
                "object": f"{entry.object_type} {entry.object_id}".strip(),
                "changes": entry.changes,
                "from_address": entry.client_address,
            }
            for entry in audit[:EXPORT_LIMIT]
        ],
    }


def erase_account(user: User, pseudonym: str) -> None:
    """Her own notifications, codes, call-back requests, tokens, sessions and lock-out
    counters go, the admin site's history names her account by the pseudonym; other
    people's notifications that named her or showed her number keep
    what they said with the pseudonym and a masked number. Consents and audit entries stay
    (by id: they never held her name or number)."""
    numbers = phone_spellings(user.phone)
    others = Notification.objects.exclude(user=user)
    replace_in_text(
        others,
        fields=["title", "body", "url", "payload"],
        spellings=numbers,
        replacement=mask_phone(user.phone),
    )
    replace_in_text(
        others,
        fields=["title", "body", "payload"],
        spellings=name_spellings(user),
        replacement=pseudonym,
    )
    Notification.objects.filter(user=user).delete()
    PhoneCode.objects.filter(phone__in=numbers).delete()
    CallbackRequest.objects.filter(Q(person=user) | Q(requester=user)).delete()
    AuthToken.objects.filter(user=user).delete()
    _end_sessions(user)
    # The admin site's history names the object edited: her account, by its str().
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=pseudonym, change_message="")
    keys = [user.username.lower(), *numbers]
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=keys).delete()


def _end_sessions(user: User) -> None:
    # Sessions are stored signed, not by user: read each live one (few per platform).
    ended = [
        session.pk
        for session in Session.objects.all().iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()


def register() -> None:
    register_section(
        name="account",
        label=_("Account and sign-in"),
        exporter=export_account,
        eraser=erase_account,
    )
