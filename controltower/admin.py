from .risk import admin as risk_admin  # noqa: F401  (registers the risk rules and warnings)
