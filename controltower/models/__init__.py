from .risk import RiskRule, RiskWarning

__all__ = ["RiskRule", "RiskWarning"]
