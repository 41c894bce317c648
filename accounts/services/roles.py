"""Changing what a person is on the platform.

A new account is a consumer or a buyer (sign-up); every other role comes from a flow that
vouches for her: an approved co-operative application (cooperative_manager), an accepted
farmer invitation (farmer), an activated courier invitation (courier), or the platform admin
on the admin site. All of them change `User.role` here, so each change is audited and the
person's live screens, which joined the groups of the old role, reconnect as the new one.
"""

from django.db import transaction

from ..choices import AuditAction, Role
from ..models import User
from ..realtime import close_user_sockets
from .audit import record_audit


def change_role(
    *, user: User, role: Role | str, changed_by: User | None, address: str | None
) -> User:
    """Give `user` the role `role`; `changed_by` is who decided it (None: the system, e.g. a
    flow with nobody signed in), `address` the request's. The caller has checked that
    `changed_by` may do this. Nothing happens (and nothing is logged) when she has it already.
    """
    role = Role(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.role
        if before == role:
            user.role = role
            return user
        locked.role = role
        locked.save(update_fields=["role"])
        record_audit(
            action=AuditAction.ROLE_CHANGED,
            actor=changed_by,
            subject=locked,
            target=locked,
            changes={"role": (before, str(role))},
            address=address,
        )
        close_user_sockets(locked.pk, every=True)
    user.role = role
    return user
