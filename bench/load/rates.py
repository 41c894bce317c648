"""The load's rates: users per role and how often each acts (no locust import: run.py reads
them too, and importing locust patches the process for gevent)."""

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Rates:
    """Users per role and how often each acts; LOAD_<FIELD> in the environment overrides."""

    loggers: int = 30  # each posts a batch every logger_every_s
    logger_every_s: float = 10.0
    readings_per_batch: int = 10  # one a second since the last batch
    couriers: int = 12  # each looks at his offers and tasks every courier_every_s
    courier_every_s: float = 5.0
    position_every_s: float = 10.0  # the phone's fix (the server keeps at most one per 10 s)
    consumers: int = 20  # each orders every consumer_every_s
    consumer_every_s: float = 40.0
    packers: int = 1  # the warehouse packs placed orders every packer_every_s
    packer_every_s: float = 3.0
    counters: int = 4  # each records a trade every counter_every_s
    counter_every_s: float = 3.0
    buyers: int = 10  # each searches every buyer_every_s
    buyer_every_s: float = 4.0
    spawn_rate: float = 10.0  # users started a second

    @classmethod
    def from_env(cls) -> "Rates":
        values = {}
        for item in fields(cls):
            raw = os.environ.get(f"LOAD_{item.name.upper()}")
            if raw:
                values[item.name] = type(getattr(cls, item.name))(raw)
        return cls(**values)

    @property
    def screens(self) -> int:
        """Sockets held: the controller's wall screen, the packer's warehouse page, every
        courier's phone and every consumer's order page."""
        return 2 + self.couriers + self.consumers

    @property
    def users(self) -> int:
        return (
            self.loggers
            + self.couriers
            + self.consumers
            + self.packers
            + self.counters
            + self.buyers
            + self.screens
        )
