"""A person's rights over her personal data (PIPL art. 44-47): a copy of what the platform
holds about her, corrections, and the deletion of her account.

Every app contributes its part through the registry in accounts.personal_data; this module
runs the sections, audits each action (by id: the audit log never holds her name or
number), and changes the User row itself last.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import AuditAction
from ..exceptions import (
    AccountDeletionBlocked,
    PersonalDataNotAccepted,
    WrongPasswordForDeletion,
)
from ..models import User
from ..personal_data import PersonalDataSection, personal_data_sections
from ..realtime import close_user_sockets
from .audit import record_audit

# What she corrects on her "My data" page; her phone number changes with a code sent to the
# new number (accounts:phone_change), her role through the flows that grant one.
CORRECTABLE_FIELDS = ("display_name", "first_name", "last_name", "email")
PSEUDONYM_PREFIX = "deleted-"


@dataclass(frozen=True)
class PersonalDataExport:
    generated_at: datetime
    sections: dict[str, Any]  # section name → what that app holds about her
    labels: dict[str, str]  # section name → its title in her language

    def as_json(self) -> str:
        return json.dumps(
            {"generated_at": self.generated_at.isoformat(), **self.sections},
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            indent=2,
        )


def collect_personal_data(user: User) -> PersonalDataExport:
    """What every section holds about her, without recording an export (her page's view)."""
    sections = personal_data_sections()
    return PersonalDataExport(
        generated_at=timezone.now(),
        sections={section.name: section.exporter(user) for section in sections},
        labels={section.name: str(section.label) for section in sections},
    )


def export_personal_data(*, user: User, address: str | None) -> PersonalDataExport:
    """Her copy (PIPL art. 45): every section's data, audited DATA_EXPORTED."""
    with transaction.atomic():
        export = collect_personal_data(user)
        record_audit(action=AuditAction.DATA_EXPORTED, actor=user, subject=user, address=address)
    return export


def correct_personal_data(*, user: User, changes: dict[str, str], address: str | None) -> User:
    """She corrects her names or email (PIPL art. 46). Unknown fields and values that break
    a field's rule are refused with the field named; nothing is saved then."""
    cleaned: dict[str, str] = {}
    for field_name, raw in changes.items():
        if field_name not in CORRECTABLE_FIELDS:
            raise PersonalDataNotAccepted(_("This cannot be corrected here."), field=field_name)
        value = (raw or "").strip()
        field = User._meta.get_field(field_name)
        max_length = getattr(field, "max_length", None)
        if max_length and len(value) > max_length:
            raise PersonalDataNotAccepted(
                _("At most %(count)d characters.") % {"count": max_length}, field=field_name
            )
        if field_name == "email" and value:
            try:
                EmailValidator()(value)
            except ValidationError as error:
                raise PersonalDataNotAccepted(
                    _("Enter a valid email address."), field=field_name
                ) from error
        cleaned[field_name] = value
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        before = {name: getattr(locked, name) for name in cleaned}
        changed = {
            name: (before[name], value) for name, value in cleaned.items() if before[name] != value
        }
        if changed:
            for name, (_before, value) in changed.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(changed))
            record_audit(
                action=AuditAction.PERSONAL_DATA_CORRECTED,
                actor=locked,
                subject=locked,
                changes=changed,
                address=address,
            )
    for name, value in cleaned.items():
        setattr(user, name, value)
    return user


def deletion_blockers(user: User) -> list[str]:
    """Why her account cannot be deleted now, one sentence per section that says so."""
    return [
        str(reason)
        for section in personal_data_sections()
        if section.blocker is not None and (reason := section.blocker(user))
    ]


def delete_account(*, user: User, password: str, address: str | None) -> str:
    """She deletes her account (PIPL art. 47), confirming with her password. Refused while a
    section blocks it (money in her wallet, an order on its way), with the reason.

    One transaction: every section erases what it holds about her, keeping amounts, lots and
    ids; then her User row stays, for the ledger, orders, trades and trace records that point
    at it, under a pseudonym, with no name, email or number, no usable password, inactive;
    her tokens and sessions end and her open sockets close. Returns the pseudonym.
    """
    if not user.check_password(password or ""):
        raise WrongPasswordForDeletion
    pseudonym = f"{PSEUDONYM_PREFIX}{secrets.token_hex(6)}"
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if blockers := deletion_blockers(locked):
            raise AccountDeletionBlocked(" ".join(blockers))
        for section in personal_data_sections():
            _erase(section, locked, pseudonym)
        locked.username = pseudonym
        locked.display_name = locked.first_name = locked.last_name = locked.email = ""
        locked.phone = None
        locked.set_unusable_password()
        locked.is_active = False
        locked.is_staff = locked.is_superuser = False
        locked.must_change_password = False
        locked.save()
        record_audit(
            action=AuditAction.ACCOUNT_DELETED, actor=locked, subject=locked, address=address
        )
        close_user_sockets(locked.pk)
    return pseudonym


def _erase(section: PersonalDataSection, user: User, pseudonym: str) -> None:
    # Each eraser reads her names and number from the row as it still is.
    section.eraser(user, pseudonym)
