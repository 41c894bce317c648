"""A Celery worker killed (SIGKILL, with its pool) in the middle of its work leaves nothing
half done, and the task, taken again, finishes it once.

The tasks are acks_late: the broker keeps a taken message until the task returns, and gives it
out again when its worker died unfinished (after CELERY_VISIBILITY_TIMEOUT: 60 s in the cluster).
End of day is also reject_on_worker_lost, for a pool process dying under a live worker.
"""

import json
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
PATIENCE = 240  # seconds: the visibility timeout, a restart, the rerun


def wait_for(what, *, seconds: float = PATIENCE, every: float = 0.05):
    deadline = time.monotonic() + seconds
    while not (found := what()):
        assert time.monotonic() < deadline, f"gave up waiting for {what.__doc__}"
        time.sleep(every)
    return found


def one(database, sql: str, *params):
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def end_of_day_state(database, *, market: int, day: str, sellers: list[int]) -> dict:
    """What the database holds of the day's closing: its status, payouts per seller account,
    statements, reports, and any entry whose postings do not sum to zero."""
    with database.cursor() as cursor:
        cursor.execute(
            "SELECT p.account_id, count(DISTINCT e.id) FROM marketplace_posting p"
            " JOIN marketplace_journalentry e ON e.id = p.entry_id"
            " WHERE e.kind = 'payout' AND p.account_id = ANY(%s) GROUP BY p.account_id",
            [sellers],
        )
        payouts = dict(cursor.fetchall())
    return {
        "status": one(
            database,
            "SELECT status FROM marketplace_marketday WHERE market_id = %s AND business_date = %s",
            market, day,
        ),
        "payouts": [payouts.get(account, 0) for account in sellers],
        "statements": one(
            database,
            "SELECT count(*) FROM marketplace_statement s JOIN marketplace_trader t"
            " ON t.id = s.trader_id WHERE t.market_id = %s AND s.business_date = %s",
            market, day,
        ),
        "reports": one(
            database,
            "SELECT count(*) FROM marketplace_dailyreport WHERE market_id = %s"
            " AND business_date = %s",
            market, day,
        ),
        "unbalanced_entries": one(
            database,
            "SELECT count(*) FROM (SELECT entry_id FROM marketplace_posting"
            " GROUP BY entry_id HAVING sum(amount) <> 0) unbalanced",
        ),
    }  # fmt: skip


def test_end_of_day_killed_halfway_is_finished_by_the_rerun_paying_each_seller_once(ops, database):
    made = json.loads(ops.manage_shell((HERE / "open_market_day.py").read_text()))
    market, day, sellers = made["market"], made["date"], made["sellers"]
    # The second seller's balance held by another transaction: the close pays the first
    # seller, then waits there, in the middle of its work, until the worker is killed.
    blocker = psycopg.connect(
        host="127.0.0.1", dbname=ops.cluster.DATABASE, user=ops.cluster.OWNER,
        password=ops.cluster.OWNER_PASSWORD,
    )  # fmt: skip
    blocker.execute(
        "SELECT 1 FROM marketplace_balanceslot WHERE account_id = %s FOR UPDATE", [sellers[1]]
    )
    ops.manage_shell(
        "from marketplace.tasks import close_business_day; "
        f"print(close_business_day.delay({market}, '{day}').id)"
    )

    def closing_and_stuck_on_the_second_seller():
        """the close to pay the first seller and wait on the second"""
        state = end_of_day_state(database, market=market, day=day, sellers=sellers)
        # pg_locks shows every role's locks (pg_stat_activity hides other roles' waits).
        waiting = one(database, "SELECT count(*) FROM pg_locks WHERE NOT granted")
        return state["status"] == "closing" and state["payouts"][0] == 1 and waiting

    wait_for(closing_and_stuck_on_the_second_seller, seconds=120)
    ops.kill("worker-batch")
    blocker.rollback()
    blocker.close()

    def payout_in_flight_gone():
        """the killed worker's open transaction to end"""
        return not one(
            database,
            "SELECT count(*) FROM pg_locks"
            " WHERE relation = 'marketplace_balanceslot'::regclass OR NOT granted",
        )

    wait_for(payout_in_flight_gone, seconds=60)
    halfway = end_of_day_state(database, market=market, day=day, sellers=sellers)
    ops.log(f"end of day killed halfway; the database holds {halfway}")
    assert halfway == {
        "status": "closing",  # no trade can land on the day any more
        "payouts": [1, 0, 0],  # whole payouts only: the one in flight was rolled back
        "statements": 0,
        "reports": 0,
        "unbalanced_entries": 0,
    }

    ops.bring_back("worker-batch")

    def closed():
        """the task, given out again, to close the day"""
        state = end_of_day_state(database, market=market, day=day, sellers=sellers)
        return state if state["status"] == "closed" else None

    finished = wait_for(closed, every=1)
    ops.log(f"after the worker came back, the rerun finished it: {finished}")
    assert finished == {
        "status": "closed",
        "payouts": [1, 1, 1],
        "statements": 4,  # three sellers and the buyer
        "reports": 1,
        "unbalanced_entries": 0,
    }


def test_dispatch_killed_halfway_leaves_no_task_and_the_order_gets_one_when_it_comes_back(
    ops, database
):
    tasks_before = one(database, "SELECT count(*) FROM delivery_deliverytask")
    # The delivery tasks held by another transaction: dispatch locks the order, then waits at
    # looking for a task to join or to write, in the middle of its transaction. The order is
    # written first (its insert waits behind that lock too); beat's sweep, every 20 s, may
    # dispatch it before the lock is taken: then another order.
    blocker = psycopg.connect(
        host="127.0.0.1", dbname=ops.cluster.DATABASE, user=ops.cluster.OWNER,
        password=ops.cluster.OWNER_PASSWORD,
    )  # fmt: skip
    for _ in range(3):
        made = json.loads(ops.manage_shell((HERE / "packed_delivery_order.py").read_text()))
        order = made["order"]
        blocker.execute("LOCK TABLE delivery_deliverytask IN ACCESS EXCLUSIVE MODE")
        if one(database, "SELECT task_id FROM delivery_deliveryorder WHERE id = %s", order) is None:
            break
        blocker.rollback()
        tasks_before = one(database, "SELECT count(*) FROM delivery_deliverytask")
    ops.manage_shell(
        f"from delivery.tasks import dispatch_order; print(dispatch_order.delay({order}).id)"
    )

    def dispatch_stuck_at_the_tasks():
        """dispatch to wait at the delivery tasks"""
        return one(
            database,
            "SELECT count(*) FROM pg_locks WHERE NOT granted"
            " AND relation = 'delivery_deliverytask'::regclass",
        )

    wait_for(dispatch_stuck_at_the_tasks, seconds=60)
    ops.kill("worker-realtime")
    blocker.rollback()
    blocker.close()

    def dispatch_in_flight_gone():
        """the killed worker's open transaction to end"""
        return not one(database, "SELECT count(*) FROM pg_locks WHERE NOT granted")

    wait_for(dispatch_in_flight_gone, seconds=60)
    halfway = {
        "order_task": one(
            database, "SELECT task_id FROM delivery_deliveryorder WHERE id = %s", order
        ),
        "new_tasks": one(database, "SELECT count(*) FROM delivery_deliverytask") - tasks_before,
    }
    ops.log(f"dispatch killed halfway; the database holds {halfway}")
    assert halfway == {"order_task": None, "new_tasks": 0}

    ops.bring_back("worker-realtime")

    def dispatched():
        """the order's dispatch, taken again (redelivered, or the beat's sweep), to finish"""
        return one(database, "SELECT task_id FROM delivery_deliveryorder WHERE id = %s", order)

    task = wait_for(dispatched, every=1)
    new_tasks = one(database, "SELECT count(*) FROM delivery_deliverytask") - tasks_before
    ops.log(f"after the worker came back the order is on task {task}; new tasks: {new_tasks}")
    # On one task: a new one, or an open one going its way that it joined (dispatch batches).
    assert new_tasks <= 1
