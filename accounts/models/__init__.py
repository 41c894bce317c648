from .audit import AuditEntry
from .callbacks import CallbackRequest
from .codes import PhoneCode
from .consent import Consent
from .notifications import Notification
from .users import CaseInsensitiveUserManager, User, username_matches

__all__ = [
    "AuditEntry",
    "CallbackRequest",
    "CaseInsensitiveUserManager",
    "Consent",
    "Notification",
    "PhoneCode",
    "User",
    "username_matches",
]
