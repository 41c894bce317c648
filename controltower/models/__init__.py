"""The tower's own tables: regulators' areas and kept digests (tower.py), risk rules and
warnings (risk.py)."""

from .risk import RiskRule, RiskWarning
from .tower import DailyDigest, RegulatorArea

__all__ = ["DailyDigest", "RegulatorArea", "RiskRule", "RiskWarning"]
