"""Dispatch: who carries a packed order (stub; the dispatch work replaces this module)."""


def request_dispatch(order) -> None:
    """Called inside the transaction that packs `order`: once it commits, dispatch runs."""
