"""Writing the audit log: every sensitive action calls `record_audit` in the same
transaction as the change, so the log holds exactly what happened."""

from typing import Any

from django.db import models

from ..choices import AuditAction
from ..models import AuditEntry, User
from ..phone import mask_phone

# Values of these fields are personal: the log keeps that they changed, not what to.
PERSONAL_FIELDS = frozenset(
    {"phone", "first_name", "last_name", "display_name", "email", "username", "name", "address"}
)


def record_audit(
    *,
    action: AuditAction | str,
    actor: User | None = None,
    subject: User | None = None,
    target: models.Model | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    address: str | None = None,
    label: str | None = None,
) -> AuditEntry:
    """Append one entry. `actor` did it (None: nobody signed in), `subject` is the person it
    concerns, `target` the object it changed, `changes` field → (before, after), `address`
    the request's (accounts.addresses.client_address), `label` what the log calls the
    target when its str() would name a person (a trader, a staff post). Personal values are
    masked: a phone number as 138****0001, a name or address as "…"; so the append-only log
    never has to forget them when the account is deleted."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        subject=subject,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_label=label[:200] if label is not None else _label(target, subject),
        changes={field: _masked(field, pair) for field, pair in (changes or {}).items()},
        client_address=address,
    )


def _label(target: models.Model | None, subject: User | None) -> str:
    # Never str(target): a membership, a trader or a ledger entry's memo may carry a person's
    # name, which this log could never forget. The model and id name it; a caller with a
    # label known to be impersonal passes `label`.
    if target is None or isinstance(target, User):
        return ""
    return f"{target._meta.model_name} #{target.pk}"[:200]


def _masked(field: str, pair: tuple[Any, Any]) -> list[Any]:
    before, after = pair
    if field == "phone":
        return [mask_phone(before), mask_phone(after)]
    if field in PERSONAL_FIELDS:
        return ["…" if before else "", "…" if after else ""]
    return [_plain(before), _plain(after)]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
