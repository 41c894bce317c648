from .audit import AuditEntry
from .codes import PhoneCode
from .consent import Consent
from .notifications import Notification
from .users import CaseInsensitiveUserManager, User, username_matches

__all__ = [
    "AuditEntry",
    "CaseInsensitiveUserManager",
    "Consent",
    "Notification",
    "PhoneCode",
    "User",
    "username_matches",
]
