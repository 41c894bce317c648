"""The traceability app's tables, one module per job; Django finds them through this package."""

from .certificates import Certificate
from .codes import TraceCode
from .epcis import CapturedEvent, CaptureJob, PartnerSystem
from .gate import LaboratoryResult, MarketEntry, RapidTest
from .recalls import (
    Recall,
    RecallDisposition,
    RecallNotice,
    RecallReach,
    RecallScopeKind,
    RecallScopeRow,
    RecallSeverity,
)
from .scans import ScanAgent, TraceScan
from .trail import LotTrailEntry

__all__ = [
    "CaptureJob",
    "CapturedEvent",
    "Certificate",
    "LaboratoryResult",
    "LotTrailEntry",
    "MarketEntry",
    "PartnerSystem",
    "RapidTest",
    "Recall",
    "RecallDisposition",
    "RecallNotice",
    "RecallReach",
    "RecallScopeKind",
    "RecallScopeRow",
    "RecallSeverity",
    "ScanAgent",
    "TraceCode",
    "TraceScan",
]
