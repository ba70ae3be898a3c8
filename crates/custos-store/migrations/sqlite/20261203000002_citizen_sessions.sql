-- Citizen view-only sessions (H4): a police officer lets an applicant looking for a missing
-- elderly person, child or person with an intellectual disability VIEW footage of given cameras
-- and ranges, once, within a time limit, watermarked. Only digests of the secrets are stored:
-- the link code the officer hands over and the viewer token the browser gets when it opens.
CREATE TABLE citizen_session (
    id              TEXT PRIMARY KEY NOT NULL,   -- shown in the watermark and the ledger
    code_sha256     TEXT NOT NULL UNIQUE,        -- SHA-256 (hex) of the link code
    viewer_sha256   TEXT UNIQUE,                 -- SHA-256 (hex) of the viewer token, once opened
    created_by      TEXT NOT NULL,               -- the police officer's account
    applicant_name  TEXT NOT NULL,
    applicant_id    TEXT NOT NULL,               -- identity document number
    reason          TEXT NOT NULL,               -- missing_elderly | missing_child | missing_intellectual_disability
    note            TEXT NOT NULL DEFAULT '',    -- case details the officer adds
    created_90k     INTEGER NOT NULL,
    expires_90k     INTEGER NOT NULL,            -- no opening and no viewing after this
    state           TEXT NOT NULL DEFAULT 'created', -- created | open | ended
    opened_90k      INTEGER,
    ended_90k       INTEGER,
    end_reason      TEXT,                        -- applicant_ended | officer_ended | expired
    ledger_seq      INTEGER                      -- the creation's ledger entry
);

-- What a session may show: one row per camera × [from, to).
CREATE TABLE citizen_session_range (
    session_id  TEXT NOT NULL REFERENCES citizen_session(id),
    idx         INTEGER NOT NULL,                -- position in the session (0, 1, ...)
    camera      TEXT NOT NULL,
    from_90k    INTEGER NOT NULL,
    to_90k      INTEGER NOT NULL,
    PRIMARY KEY (session_id, idx)
);
