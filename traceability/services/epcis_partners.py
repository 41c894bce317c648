"""Partner systems' keys as people manage them: the platform admin issues a key limited to a
co-operative, a market or neither; a co-operative manager issues keys limited to his own
co-operative; each revokes the keys he may see (selectors.epcis_partners.partners_visible_to).

A person who sends a document while signed in sends it as his own partner system, made on first
use and holding no usable key: the co-operative's (limited to it, named after it) for a manager,
the platform's for the admin.
"""

import hashlib

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import is_admin
from farms.selectors import cooperative_managed_by

from ..epcis.partners import issue_partner_key, revoke_partner_key
from ..exceptions import TraceabilityError
from ..models import PartnerSystem
from ..selectors.epcis_partners import SIGNED_IN_PREFIX, partners_visible_to


class PartnerKeyRefused(TraceabilityError):
    default_message = gettext_lazy("Only the platform admin and co-operative managers issue keys.")


def issue_key_as(
    user, *, name: str, cooperative=None, market=None, may_capture=True, may_query=True
) -> tuple[PartnerSystem, str]:
    """A new key (returned here only). A co-operative manager's key is always limited to his
    co-operative, whatever he asked for."""
    name = name.strip()
    if not name:
        raise PartnerKeyRefused(_("Name the partner's system."), field="name")
    if not is_admin(user):
        own = cooperative_managed_by(user)
        if own is None:
            raise PartnerKeyRefused()
        if (cooperative is not None and cooperative != own) or market is not None:
            raise PartnerKeyRefused(
                _("A co-operative's key is limited to that co-operative."), field="cooperative"
            )
        cooperative = own
    if cooperative is not None and market is not None:
        raise PartnerKeyRefused(
            _("Limit a key to a co-operative or to a market, not both."), field="market"
        )
    return issue_partner_key(
        name=name,
        created_by=user,
        cooperative=cooperative,
        market=market,
        may_capture=may_capture,
        may_query=may_query,
    )


def revoke_key_as(user, *, partner_id: int) -> PartnerSystem:
    """Revoke a key the user may see (another's is simply not found)."""
    partner = partners_visible_to(user).filter(pk=partner_id).first()
    if partner is None:
        raise PartnerSystem.DoesNotExist
    revoke_partner_key(partner)
    partner.refresh_from_db()
    return partner


@transaction.atomic
def signed_in_partner(user) -> PartnerSystem | None:
    """The partner system a signed-in manager or admin captures as, or None for anyone else."""
    if is_admin(user):
        cooperative, name = None, "FreshChain"
    else:
        cooperative = cooperative_managed_by(user)
        if cooperative is None:
            return None
        name = cooperative.name
    # Not a key's hash: no raw key hashes to it that starts with "fcp_", so nobody signs in
    # with it.
    marker = hashlib.sha256(f"{SIGNED_IN_PREFIX}:{user.pk}".encode()).hexdigest()
    partner, _created = PartnerSystem.objects.get_or_create(
        key_hash=marker,
        defaults={
            "name": name,
            "cooperative": cooperative,
            "key_prefix": SIGNED_IN_PREFIX,
            "may_query": False,
            "created_by": user,
        },
    )
    return partner
