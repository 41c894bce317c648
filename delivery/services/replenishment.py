"""Replenishment (stub; the replenishment work replaces this module)."""


def suggest_for_all_warehouses() -> list:
    return []
