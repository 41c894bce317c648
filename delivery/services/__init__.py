"""Every write front warehouses and delivery allow, one module per area:

- stock: receiving, first-expired-first-out picking, counts and write-offs;
- orders: consumers' orders (reserve, pay from the wallet, pack, cancel);
- couriers: shifts, positions, pick-up and delivery of a task;
- replenishment: suggested purchases and their approval;
- dispatch: a packed order's task, batching, the manager's "dispatch again", the sweep;
- offers: offering a task to the best courier, and his answer (accept, decline) or time-out.

Dispatch's pure parts live beside the app: `delivery.rules` (its numbers), `delivery.routing`
(routes and promises) and `delivery.ranking` (candidate search and scoring).
"""
