"""The privacy policy in force. Its text is templates/accounts/privacy_policy.html; when the
text changes in substance, raise the version so that everyone is asked to agree again."""

POLICY_VERSION = "2026-12"
