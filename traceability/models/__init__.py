"""The traceability app's tables, one module per job; Django finds them through this package."""

from .certificates import Certificate
from .codes import TraceCode
from .gate import LaboratoryResult, MarketEntry, RapidTest
from .recalls import (
    Recall,
    RecallDisposition,
    RecallNotice,
    RecallReach,
    RecallScopeRow,
    RecallSeverity,
)
from .scans import ScanAgent, TraceScan
from .trail import LotTrailEntry

__all__ = [
    "Certificate",
    "LaboratoryResult",
    "LotTrailEntry",
    "MarketEntry",
    "RapidTest",
    "Recall",
    "RecallDisposition",
    "RecallNotice",
    "RecallReach",
    "RecallScopeRow",
    "RecallSeverity",
    "ScanAgent",
    "TraceCode",
    "TraceScan",
]
