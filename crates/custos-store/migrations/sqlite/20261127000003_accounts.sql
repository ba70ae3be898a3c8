-- Accounts, their role grants, server-side sessions and API tokens, and duty shifts (E1, E4,
-- E10, D5). Time columns are 90 kHz units since the Unix epoch (suffix _90k), as elsewhere.
-- No secret is stored in the clear: passwords as Argon2id PHC strings, session and API tokens
-- as SHA-256 digests of the random value the client holds.

CREATE TABLE account (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    password_hash        TEXT NOT NULL,                 -- Argon2id PHC string
    must_change_password INTEGER NOT NULL DEFAULT 0,    -- 1: only a password change is allowed
    clearance            TEXT NOT NULL DEFAULT 'public' -- E6 label ceiling
        CHECK (clearance IN ('public', 'internal', 'confidential', 'secret')),
    valid_from_90k       INTEGER,                       -- start of the account's window
    expires_90k          INTEGER,                       -- end (contractors E10, citizens H4)
    disabled_90k         INTEGER,                       -- set: no login, no session, no token
    created_90k          INTEGER NOT NULL,
    created_by           TEXT NOT NULL,
    totp_secret          BLOB,                          -- RFC 6238 shared secret
    totp_enabled         INTEGER NOT NULL DEFAULT 0,    -- 0 while enrolment is unconfirmed
    totp_last_step       INTEGER,                       -- last accepted time step (no replay)
    failed_logins        INTEGER NOT NULL DEFAULT 0,    -- failures in the current window
    failed_since_90k     INTEGER,                       -- start of that window
    locked_until_90k     INTEGER                        -- lockout end
);

-- One role within one scope (`org[/system[/area[/camera]]]`).
CREATE TABLE account_grant (
    account_id  INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    PRIMARY KEY (account_id, role, scope)
);

-- A browser session (kind 'session') or an API token (kind 'token').
CREATE TABLE auth_session (
    id            TEXT PRIMARY KEY,                     -- public id, for listing and revoking
    token_sha256  BLOB NOT NULL UNIQUE,                 -- SHA-256 of the secret the client holds
    account_id    INTEGER NOT NULL REFERENCES account (id),
    kind          TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    label         TEXT,                                 -- API tokens: what it is for
    csrf          TEXT,                                 -- sessions: the CSRF token
    peer          TEXT,                                 -- address the session was opened from
    created_90k   INTEGER NOT NULL,
    last_seen_90k INTEGER NOT NULL,
    expires_90k   INTEGER,                              -- absolute end (sessions always; tokens if set)
    revoked_90k   INTEGER,
    revoked_by    TEXT
);
CREATE INDEX auth_session_account ON auth_session (account_id);

-- Duty shifts of watch operators (D2, D5): open while ended_90k is NULL.
CREATE TABLE duty_shift (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES account (id),
    started_90k INTEGER NOT NULL,
    ended_90k   INTEGER
);
CREATE UNIQUE INDEX duty_shift_open ON duty_shift (account_id) WHERE ended_90k IS NULL;
