"""Traceability's demo: certificates on the demo farmer's lots, Xinfadi's gate checks (one batch
rapid-tested positive and blocked), one lot followed from a Shouguang greenhouse to a
consumer's doorstep, and a past recall closed with its report. Each part has its module."""


def seed(context: dict) -> None:
    from . import certificates, gate, journey, recalls

    for part in (certificates, gate, journey, recalls):
        part.seed(context)
