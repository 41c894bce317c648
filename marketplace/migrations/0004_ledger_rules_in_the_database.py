"""The ledger's rules enforced by PostgreSQL itself, whatever client writes to it.

- Every journal entry's postings sum to zero and it has at least two: constraint triggers,
  deferred to commit so the entry and its postings can be inserted one after the other.
- Postings are never updated or deleted.
- A journal entry is never deleted, and of its columns only the seal (seal_seq, chain_hash)
  may be filled in, once.
- A balance slot is never deleted (a prepaid one is never overdrawn: a CHECK in 0003).
"""

from django.db import migrations

FORWARD = r"""
ALTER TABLE marketplace_posting
    ADD CONSTRAINT ledger_posting_not_zero CHECK (amount <> 0);

CREATE FUNCTION ledger_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- The column naming the entry: entry_id on a posting, id on the entry itself.
    entry bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
    total numeric;
    legs integer;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, legs
      FROM marketplace_posting WHERE entry_id = entry;
    IF total <> 0 OR legs < 2 THEN
        RAISE EXCEPTION 'journal entry % does not balance: % postings summing to %',
            entry, legs, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_posting_balances
    AFTER INSERT ON marketplace_posting DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance('entry_id');

CREATE CONSTRAINT TRIGGER ledger_entry_balances
    AFTER INSERT ON marketplace_journalentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance('id');

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows cannot be %d: the ledger only grows', TG_TABLE_NAME, lower(TG_OP)
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ledger_posting_immutable
    BEFORE UPDATE OR DELETE ON marketplace_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_balance_slot_kept
    BEFORE DELETE ON marketplace_balanceslot
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_entry_kept
    BEFORE DELETE ON marketplace_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_entry_only_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seal_seq IS NOT NULL
       OR to_jsonb(NEW) - 'seal_seq' - 'chain_hash' <> to_jsonb(OLD) - 'seal_seq' - 'chain_hash'
    THEN
        RAISE EXCEPTION 'journal entry % cannot change: only its seal is written, once', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_entry_immutable
    BEFORE UPDATE ON marketplace_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_only_sealed();
"""

BACKWARD = r"""
DROP TRIGGER ledger_entry_immutable ON marketplace_journalentry;
DROP FUNCTION ledger_entry_only_sealed();
DROP TRIGGER ledger_entry_kept ON marketplace_journalentry;
DROP TRIGGER ledger_balance_slot_kept ON marketplace_balanceslot;
DROP TRIGGER ledger_posting_immutable ON marketplace_posting;
DROP FUNCTION ledger_refuse_change();
DROP TRIGGER ledger_entry_balances ON marketplace_journalentry;
DROP TRIGGER ledger_posting_balances ON marketplace_posting;
DROP FUNCTION ledger_entry_must_balance();
ALTER TABLE marketplace_posting DROP CONSTRAINT ledger_posting_not_zero;
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0003_wholesale_markets_and_ledger")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
