from common.api.throttles import UserRateThrottle


class SignInRateThrottle(UserRateThrottle):
    """Password attempts through the API: per IP address for a sign-in, per user for a
    password change. Stricter than the general rate (API_THROTTLE_SIGN_IN)."""

    scope = "sign_in"
