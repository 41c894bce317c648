"""A partner system signs its EPCIS calls with `Authorization: Bearer fcp_…`.

The request then has `request.auth` = the PartnerSystem and `request.user` = a PartnerCaller,
which is signed in but holds no role and is no one's account: every view that serves a partner
scopes by `request.auth` (its co-operative or market), never by the user.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions

from ..epcis.partners import KEY_PREFIX, partner_for_key
from ..models import PartnerSystem


class PartnerCaller:
    """The `request.user` of a partner system's call."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_platform_admin = False
    must_change_password = False
    role = ""
    pk = id = None

    def __init__(self, partner: PartnerSystem):
        self.partner = partner

    def has_role(self, *roles: str) -> bool:
        return False

    def __str__(self) -> str:
        return f"partner:{self.partner.name}"


def partner_of(request) -> PartnerSystem | None:
    """The partner system making this call, or None for a person."""
    return request.auth if isinstance(request.auth, PartnerSystem) else None


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode(errors="replace") != self.keyword:
            return None
        raw_key = header[1].decode(errors="replace")
        if not raw_key.startswith(KEY_PREFIX):
            return None  # not ours: another scheme may know it
        partner = partner_for_key(raw_key)
        if partner is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked partner key."))
        return PartnerCaller(partner), partner

    def authenticate_header(self, request) -> str:
        return self.keyword


class PartnerKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = PartnerKeyAuthentication
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer"
        )
