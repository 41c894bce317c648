from .passwords import (
    change_own_password,
    issue_api_token,
    revoke_api_token,
    revoke_api_tokens,
    set_password_for,
)

__all__ = [
    "change_own_password",
    "issue_api_token",
    "revoke_api_token",
    "revoke_api_tokens",
    "set_password_for",
]
