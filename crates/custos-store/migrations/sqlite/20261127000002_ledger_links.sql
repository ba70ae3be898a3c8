-- Links from index rows to the ledger entries that record them (E4): the verifier checks that
-- every sealed segment, gap and deletion has its entry and that they agree.
ALTER TABLE segment ADD COLUMN ledger_seq INTEGER;       -- entry of the seal
ALTER TABLE segment ADD COLUMN delete_ledger_seq INTEGER; -- entry of the retention deletion
ALTER TABLE gap ADD COLUMN ledger_seq INTEGER;
ALTER TABLE hold ADD COLUMN ledger_seq INTEGER;
ALTER TABLE hold ADD COLUMN release_approved_by TEXT;     -- the second person (E5)
ALTER TABLE hold ADD COLUMN release_ledger_seq INTEGER;
