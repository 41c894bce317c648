"""Reads shared by delivery's pages, API and tasks, including who may see what; one module
per area (zones, shop, couriers, warehouse, replenishment)."""
