"""Posting an entry, as a function: the statement `settlement.posting` sent as text (lock the
balance slots in (account, slot) order, change them, write the entry and its postings) now
lives in PL/pgSQL, which keeps its plan for the session instead of making it again for every
settlement (as a prepared statement would, but one that PgBouncer's transaction pooling
carries). Same rules, same order; the deferred balance check and the triggers are untouched.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_post_entry(
    p_slot_accounts bigint[], p_slot_numbers integer[], p_slot_deltas numeric[],
    p_book bigint, p_kind text, p_memo text, p_business_date date, p_created_at timestamptz,
    p_created_by bigint, p_reference text, p_reverses bigint, p_key text,
    p_request_hash text, p_content_hash text,
    p_accounts bigint[], p_slots integer[], p_amounts numeric[]
) RETURNS TABLE (o_entry bigint, o_applied bigint) LANGUAGE plpgsql AS $$
BEGIN
    -- `locked` takes the slots' row locks in (account, slot) order before anything changes
    -- (a sorted FOR UPDATE locks as it sorts, and a MATERIALIZED CTE runs whole); `changed`
    -- changes them (an overdrawn prepaid slot fails its CHECK here); then the entry and its
    -- postings. The caller compares o_applied with the slots it asked for.
    RETURN QUERY
    WITH delta AS (
        SELECT * FROM unnest(p_slot_accounts, p_slot_numbers, p_slot_deltas)
            AS delta(account_id, slot, amount)
    ), locked AS MATERIALIZED (
        SELECT b.id, delta.amount
          FROM marketplace_balanceslot b JOIN delta USING (account_id, slot)
         ORDER BY b.account_id, b.slot FOR UPDATE OF b
    ), changed AS (
        UPDATE marketplace_balanceslot AS b SET amount = b.amount + locked.amount
          FROM locked WHERE b.id = locked.id
        RETURNING b.id
    ), entry AS (
        INSERT INTO marketplace_journalentry (book_id, kind, memo, business_date, created_at,
            created_by_id, reference, reverses_id, idempotency_key, request_hash, content_hash,
            chain_hash)
        VALUES (p_book, p_kind, p_memo, p_business_date, p_created_at, p_created_by,
            p_reference, p_reverses, p_key, p_request_hash, p_content_hash, '')
        RETURNING id
    ), postings AS (
        INSERT INTO marketplace_posting (entry_id, account_id, slot, amount, amount_currency)
        SELECT entry.id, leg.account_id, leg.slot, leg.amount, 'CNY'
          FROM entry, unnest(p_accounts, p_slots, p_amounts) AS leg(account_id, slot, amount)
    )
    SELECT (SELECT id FROM entry), (SELECT count(*) FROM changed);
END $$;
"""

BACKWARD = """
DROP FUNCTION ledger_post_entry(
    bigint[], integer[], numeric[], bigint, text, text, date, timestamptz, bigint, text, bigint,
    text, text, text, bigint[], integer[], numeric[]
);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0002_content_types"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
