-- Footage requests of the authorities (H1–H5): one row per request, its state and its data
-- (requesting organ, officers, cameras × ranges, approval, release) as JSON written by
-- custos-requests, which owns the rules; every change is a ledger entry written first.
CREATE TABLE footage_request (
    id          INTEGER PRIMARY KEY,
    state       TEXT NOT NULL,             -- drafted, submitted, approved, rejected, released, closed
    body        TEXT NOT NULL,             -- JSON (custos_requests::Request)
    created_90k INTEGER NOT NULL,
    updated_90k INTEGER NOT NULL
);
CREATE INDEX footage_request_state ON footage_request (state);

-- Documents attached to a request (unit letter, legal document, officers' ID scans): the
-- file lives in DATA/archive/requests/<sha256>; rows are never rewritten or deleted.
CREATE TABLE footage_request_document (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES footage_request (id),
    kind        TEXT NOT NULL,             -- unit_letter, legal_document, officer_id, other
    title       TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    path        TEXT NOT NULL,             -- relative to the data directory
    bytes       INTEGER NOT NULL,
    added_by    TEXT NOT NULL,
    added_90k   INTEGER NOT NULL,
    ledger_seq  INTEGER NOT NULL
);
CREATE INDEX footage_request_document_request ON footage_request_document (request_id);
CREATE TRIGGER footage_request_document_no_update BEFORE UPDATE ON footage_request_document
BEGIN SELECT RAISE(ABORT, 'request documents are never rewritten'); END;
CREATE TRIGGER footage_request_document_no_delete BEFORE DELETE ON footage_request_document
BEGIN SELECT RAISE(ABORT, 'request documents are never deleted'); END;
