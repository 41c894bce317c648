"""Partner systems' keys for the EPCIS interfaces: issued once, kept only as a hash.

A key is shown once, when issued ("fcp_" and 43 random characters); the database keeps its
SHA-256 (a key has 256 random bits, so a fast hash is enough: nobody can guess one to hash)
and its first characters, so people can tell keys apart.
"""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from ..models import PartnerSystem

KEY_PREFIX = "fcp_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def issue_partner_key(
    *, name: str, created_by, cooperative=None, market=None, may_capture=True, may_query=True
) -> tuple[PartnerSystem, str]:
    """A new partner system and its key (returned here only)."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    partner = PartnerSystem.objects.create(
        name=name,
        cooperative=cooperative,
        market=market,
        may_capture=may_capture,
        may_query=may_query,
        key_hash=hash_key(raw_key),
        key_prefix=raw_key[:12],
        created_by=created_by,
    )
    return partner, raw_key


def partner_for_key(raw_key: str) -> PartnerSystem | None:
    """The live partner system holding this key, or None (unknown or revoked)."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    return (
        PartnerSystem.objects.filter(key_hash=hash_key(raw_key), revoked_at__isnull=True)
        .select_related("cooperative", "market")
        .first()
    )


def revoke_partner_key(partner: PartnerSystem) -> None:
    PartnerSystem.objects.filter(pk=partner.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
