"""Closes gaps in the ledger's database rules found by raw-SQL tests.

- A balance slot's account, slot number and overdraft rule never change (an UPDATE could
  otherwise switch `no_overdraft` off in the same statement that overdraws the slot).
- A journal entry's chain hash, like its seal number, is written once.
- A posting names an existing balance slot of its account, in CNY.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_balance_slot_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id <> OLD.account_id OR NEW.slot <> OLD.slot
       OR NEW.no_overdraft <> OLD.no_overdraft THEN
        RAISE EXCEPTION 'balance slot %: only its amount changes', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_balance_slot_fixed
    BEFORE UPDATE ON marketplace_balanceslot
    FOR EACH ROW EXECUTE FUNCTION ledger_balance_slot_fixed();

CREATE OR REPLACE FUNCTION ledger_entry_only_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seal_seq IS NOT NULL OR OLD.chain_hash <> ''
       OR to_jsonb(NEW) - 'seal_seq' - 'chain_hash' <> to_jsonb(OLD) - 'seal_seq' - 'chain_hash'
    THEN
        RAISE EXCEPTION 'journal entry % cannot change: only its seal is written, once', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

ALTER TABLE marketplace_posting
    ADD CONSTRAINT ledger_posting_in_cny CHECK (amount_currency = 'CNY'),
    ADD CONSTRAINT ledger_posting_slot_exists FOREIGN KEY (account_id, slot)
        REFERENCES marketplace_balanceslot (account_id, slot);
"""

BACKWARD = r"""
ALTER TABLE marketplace_posting
    DROP CONSTRAINT ledger_posting_slot_exists,
    DROP CONSTRAINT ledger_posting_in_cny;
CREATE OR REPLACE FUNCTION ledger_entry_only_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seal_seq IS NOT NULL
       OR to_jsonb(NEW) - 'seal_seq' - 'chain_hash' <> to_jsonb(OLD) - 'seal_seq' - 'chain_hash'
    THEN
        RAISE EXCEPTION 'journal entry % cannot change: only its seal is written, once', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER ledger_balance_slot_fixed ON marketplace_balanceslot;
DROP FUNCTION ledger_balance_slot_fixed();
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0004_ledger_rules_in_the_database")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
