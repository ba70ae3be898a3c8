-- Ongoing gaps (E7): a gap row exists from the moment footage stops, marked open; its end is
-- the last time the recorder saw it continue (extended every few seconds) until the recorder
-- closes it where footage resumes and records it in the ledger. An open row left by a run that
-- died is closed at its last extension by the next run, which records the time after it as
-- "recorder not running".
ALTER TABLE gap ADD COLUMN open INTEGER NOT NULL DEFAULT 0;
CREATE INDEX gap_open ON gap (stream_id) WHERE open = 1;
