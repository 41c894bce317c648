"""The traceability app's tables, one module per job; Django finds them through this package."""

from .certificates import Certificate
from .codes import TraceCode
from .recalls import (
    Recall,
    RecallDisposition,
    RecallNotice,
    RecallReach,
    RecallScopeRow,
    RecallSeverity,
)

__all__ = [
    "Certificate",
    "Recall",
    "RecallDisposition",
    "RecallNotice",
    "RecallReach",
    "RecallScopeRow",
    "RecallSeverity",
    "TraceCode",
]
