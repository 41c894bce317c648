"""The cold chain's tables: places, cold stores, vehicles, shipments and their lots, events and
handovers, data loggers and their readings, excursions, alerts and each lot's remaining shelf
life.

Django loads an app's models from `<app>.models`, so this package names every model of the
app here; each lives in the module of its job.
"""

from .lots import LotCondition
from .monitoring import (
    DEVICE_ID,
    AboutWatchedSubject,
    Alert,
    DataLogger,
    Excursion,
    LoggerAssignment,
    Reading,
    ReadingHour,
    ReadingRollupProgress,
)
from .places import ColdStore, MonitoredRange, Site, Vehicle
from .shipments import Handover, Shipment, ShipmentEvent, ShipmentLot, handover_record_path

__all__ = [
    "DEVICE_ID",
    "AboutWatchedSubject",
    "Alert",
    "ColdStore",
    "DataLogger",
    "Excursion",
    "Handover",
    "LoggerAssignment",
    "LotCondition",
    "MonitoredRange",
    "Reading",
    "ReadingHour",
    "ReadingRollupProgress",
    "Shipment",
    "ShipmentEvent",
    "ShipmentLot",
    "Site",
    "Vehicle",
    "handover_record_path",
]
