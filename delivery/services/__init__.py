"""Every write front warehouses and delivery allow, one module per area:

- stock: receiving, first-expired-first-out picking, counts and write-offs;
- orders: consumers' orders (reserve, pay from the wallet, pack, cancel);
- couriers: shifts, positions, pick-up and delivery of a task;
- replenishment: suggested purchases and their approval.

Dispatch (finding a courier, offers and their answers) is its own module, `delivery.dispatch`.
"""
