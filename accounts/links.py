"""Secrets of links texted to a phone (an invitation to a co-operative or a warehouse): the
link carries the secret, the table keeps only its SHA-256, so a copy of the database opens
nothing."""

import hashlib


def token_hash(token: str) -> str:
    """What the table keeps of a link's secret."""
    return hashlib.sha256(token.encode()).hexdigest()
