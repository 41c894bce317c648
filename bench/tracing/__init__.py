"""bench/trace's data and raw SQL, apart from its runner so a test can build them at a tiny
scale: `data.build(Scale(...))` writes one lot's forward scope and a background of other lots;
`raw.raw_downstream(cursor, lot_id)` walks the same tables with one recursive statement.

A package, not a module of bench/: bench/run.py runs every top-level module as a benchmark.
"""
