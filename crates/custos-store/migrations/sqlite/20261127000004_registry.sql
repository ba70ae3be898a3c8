-- Registry and compliance (A1–A5, B1–B4, C1–C4, D2–D4, D6, I1, I4, J1–J3). Dates are legal
-- dates (China Standard Time) as 'YYYY-MM-DD'; instants are 90 kHz units since the Unix epoch
-- (suffix _90k). Polygons are JSON arrays of [lon, lat] (WGS-84). Append-only tables refuse
-- UPDATE/DELETE by trigger, so even a direct SQL session cannot rewrite them.

-- A unit (单位): builds, uses or maintains systems (A1).
CREATE TABLE reg_unit (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    credit_code     TEXT,                             -- unified social credit code
    address         TEXT,
    contact         TEXT,
    state_owned     INTEGER NOT NULL DEFAULT 0        -- 000 §8: state-owned → manager/user/operator
);

-- A system (A1): its units, the responsibility subject and why (000 §8), funding,
-- jurisdiction and lifecycle state (C1). The duty columns feed rule D2.
CREATE TABLE reg_system (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    building_unit           TEXT REFERENCES reg_unit (id),
    using_unit              TEXT REFERENCES reg_unit (id),
    maintenance_unit        TEXT REFERENCES reg_unit (id),
    responsible_unit        TEXT REFERENCES reg_unit (id),
    responsibility_basis    TEXT NOT NULL DEFAULT 'owner'
        CHECK (responsibility_basis IN ('agreement', 'owner', 'state_manager', 'state_user', 'state_operator')),
    funding                 TEXT NOT NULL DEFAULT 'private' CHECK (funding IN ('government', 'private')),
    division                TEXT NOT NULL,            -- administrative division code (GB/T 2260)
    profile                 TEXT NOT NULL DEFAULT 'strictest', -- jurisdiction profile
    state                   TEXT NOT NULL DEFAULT 'planned',
    in_use                  INTEGER NOT NULL DEFAULT 0, -- observed: streams live/recorded
    accepted_on             TEXT,
    put_into_use_on         TEXT,
    filed_on                TEXT,
    completed_before_rules  INTEGER NOT NULL DEFAULT 0,
    stores_police_important_info INTEGER NOT NULL DEFAULT 0,
    must_connect            INTEGER NOT NULL DEFAULT 0, -- I1: listed in the public catalogue
    public_name             TEXT,                     -- I1: name shown in the catalogue
    has_duty_roster         INTEGER NOT NULL DEFAULT 0,
    has_operating_procedures INTEGER NOT NULL DEFAULT 0,
    has_emergency_plan      INTEGER NOT NULL DEFAULT 0,
    created_90k             INTEGER NOT NULL
);

-- A place (B1/B2): category from the taxonomy ('mandatory:<cat>', 'prohibited:<cat>', 'general').
CREATE TABLE reg_place (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    category                TEXT NOT NULL,
    anti_terror_key_target  INTEGER NOT NULL DEFAULT 0,
    polygon                 TEXT                      -- JSON, optional outline
);

-- A residence whose windows and doors must not be captured (B3).
CREATE TABLE reg_residence (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    polygon     TEXT NOT NULL                         -- JSON
);

-- A device (A2, I4): cameras, alarm and access-control devices, by GB/T 28181 code.
-- Position, height, bearing, field of view and code are confidential (A3).
CREATE TABLE reg_device (
    code            TEXT PRIMARY KEY CHECK (length(code) = 20),
    system_id       TEXT NOT NULL REFERENCES reg_system (id),
    kind            TEXT NOT NULL CHECK (kind IN ('camera', 'alarm', 'access_control', 'other')),
    name            TEXT NOT NULL DEFAULT '',
    vendor          TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL DEFAULT '',
    certification   TEXT NOT NULL DEFAULT '',
    lon             REAL,
    lat             REAL,
    height_m        REAL,
    bearing_deg     REAL,
    fov             TEXT,                             -- JSON polygon
    place_id        TEXT REFERENCES reg_place (id),
    public_area     INTEGER NOT NULL DEFAULT 1,
    signage         INTEGER NOT NULL DEFAULT 0,
    fixed_range     INTEGER NOT NULL DEFAULT 0,       -- B5: capture range fixed
    activated       INTEGER NOT NULL DEFAULT 1,
    privacy_mask    INTEGER NOT NULL DEFAULT 0,       -- static privacy mask set (G3)
    stream_main     TEXT,
    stream_sub      TEXT,
    retention       TEXT NOT NULL DEFAULT '30d',
    camera_name     TEXT,                             -- the recorder's camera, if recorded here
    online          INTEGER NOT NULL DEFAULT 0,       -- latest health (D1)
    offline_since_90k INTEGER,
    completeness    REAL,                             -- 0–1 over the health window
    health_90k      INTEGER
);
CREATE INDEX reg_device_system ON reg_device (system_id);
CREATE INDEX reg_device_place ON reg_device (place_id);

-- Archive (A4): never overwritten, only superseded.
CREATE TABLE reg_document (
    id              INTEGER PRIMARY KEY,
    system_id       TEXT NOT NULL REFERENCES reg_system (id),
    kind            TEXT NOT NULL,                    -- design_plan, acceptance_report, ...
    title           TEXT NOT NULL,
    dated           TEXT NOT NULL,
    author_unit     TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    path            TEXT NOT NULL,                    -- relative to the data directory
    supersedes      INTEGER REFERENCES reg_document (id),
    superseded_by   INTEGER REFERENCES reg_document (id),
    added_by        TEXT NOT NULL,
    added_90k       INTEGER NOT NULL,
    ledger_seq      INTEGER
);
CREATE INDEX reg_document_system ON reg_document (system_id, kind);
CREATE TRIGGER reg_document_no_delete BEFORE DELETE ON reg_document
BEGIN SELECT RAISE(ABORT, 'archive documents are never deleted (A4)'); END;
CREATE TRIGGER reg_document_no_rewrite BEFORE UPDATE ON reg_document
WHEN NEW.id IS NOT OLD.id OR NEW.system_id IS NOT OLD.system_id OR NEW.kind IS NOT OLD.kind
  OR NEW.title IS NOT OLD.title OR NEW.dated IS NOT OLD.dated OR NEW.author_unit IS NOT OLD.author_unit
  OR NEW.sha256 IS NOT OLD.sha256 OR NEW.bytes IS NOT OLD.bytes OR NEW.path IS NOT OLD.path
  OR NEW.supersedes IS NOT OLD.supersedes OR NEW.added_by IS NOT OLD.added_by
  OR NEW.added_90k IS NOT OLD.added_90k OR NEW.ledger_seq IS NOT OLD.ledger_seq
  OR OLD.superseded_by IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'archive documents are never overwritten, only superseded (A4)'); END;

-- Staff who watch, operate or maintain a system (A5) and their training (D3).
CREATE TABLE reg_staff (
    id          TEXT PRIMARY KEY,
    system_id   TEXT NOT NULL REFERENCES reg_system (id),
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,                        -- watch, operate, maintain
    id_number   TEXT                                  -- personal data filed with police (004)
);
CREATE TABLE reg_training (
    id          INTEGER PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES reg_staff (id),
    topic       TEXT NOT NULL CHECK (topic IN ('legal', 'secrecy', 'skills', 'safety')),
    on_date     TEXT NOT NULL,
    provider    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reg_training_staff ON reg_training (staff_id);

-- Duty rosters and shift logs (D2).
CREATE TABLE reg_duty_shift (
    id          INTEGER PRIMARY KEY,
    system_id   TEXT NOT NULL REFERENCES reg_system (id),
    staff_id    TEXT NOT NULL REFERENCES reg_staff (id),
    start_90k   INTEGER NOT NULL,
    end_90k     INTEGER NOT NULL CHECK (end_90k > start_90k)
);
CREATE TABLE reg_duty_log (
    id          INTEGER PRIMARY KEY,
    system_id   TEXT NOT NULL REFERENCES reg_system (id),
    staff_id    TEXT NOT NULL,
    at_90k      INTEGER NOT NULL,
    entry       TEXT NOT NULL
);
CREATE INDEX reg_duty_log_system ON reg_duty_log (system_id, at_90k);
CREATE TRIGGER reg_duty_log_append_only BEFORE UPDATE ON reg_duty_log
BEGIN SELECT RAISE(ABORT, 'duty-log entries are append-only (D2)'); END;

-- Inspection, maintenance and assessment records (D4).
CREATE TABLE reg_maintenance (
    id          INTEGER PRIMARY KEY,
    system_id   TEXT NOT NULL REFERENCES reg_system (id),
    device_code TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('check', 'maintenance', 'efficiency_assessment', 'security_assessment', 'image_quality')),
    on_date     TEXT NOT NULL,
    by_unit     TEXT NOT NULL,
    result      TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT ''
);

-- Planned or done adjustments and removals (C3).
CREATE TABLE reg_change (
    id                  TEXT PRIMARY KEY,
    system_id           TEXT NOT NULL REFERENCES reg_system (id),
    kind                TEXT NOT NULL CHECK (kind IN ('adjustment', 'removal')),
    on_date             TEXT NOT NULL,
    done                INTEGER NOT NULL DEFAULT 0,
    police_notified_on  TEXT,
    filed_on            TEXT
);

-- Lifecycle transitions (C1–C4), each with its evidence and ledger entry.
CREATE TABLE reg_transition (
    id          INTEGER PRIMARY KEY,
    system_id   TEXT NOT NULL REFERENCES reg_system (id),
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    on_date     TEXT NOT NULL,
    evidence    TEXT NOT NULL,                        -- JSON [{document_id, kind, dated}]
    by_person   TEXT NOT NULL,
    at_90k      INTEGER NOT NULL,
    ledger_seq  INTEGER NOT NULL
);
CREATE TRIGGER reg_transition_append_only BEFORE UPDATE ON reg_transition
BEGIN SELECT RAISE(ABORT, 'lifecycle transitions are append-only (C1)'); END;
CREATE TRIGGER reg_transition_no_delete BEFORE DELETE ON reg_transition
BEGIN SELECT RAISE(ABORT, 'lifecycle transitions are append-only (C1)'); END;

-- Findings (J1/J2) as the scan last saw them, with their workflow status.
CREATE TABLE reg_finding (
    id              TEXT PRIMARY KEY,                 -- stable: rule:subject[:detail]
    rule            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    system_id       TEXT,
    articles        TEXT NOT NULL,                    -- citation text
    severity        TEXT NOT NULL,
    detected_90k    INTEGER NOT NULL,
    deadline_90k    INTEGER NOT NULL,
    consequence     TEXT NOT NULL,                    -- JSON
    status          TEXT NOT NULL DEFAULT 'open',
    message         TEXT NOT NULL,
    last_seen_90k   INTEGER NOT NULL,
    resolved_90k    INTEGER,                          -- the scan no longer sees it
    order_id        INTEGER
);
CREATE INDEX reg_finding_system ON reg_finding (system_id);
CREATE INDEX reg_finding_rule ON reg_finding (rule);
CREATE TABLE reg_finding_event (
    id          INTEGER PRIMARY KEY,
    finding_id  TEXT NOT NULL REFERENCES reg_finding (id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    by_person   TEXT NOT NULL,
    at_90k      INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    ledger_seq  INTEGER NOT NULL
);

-- Inspections (J1): a checklist per type, filled item by item.
CREATE TABLE reg_inspection (
    id          INTEGER PRIMARY KEY,
    system_id   TEXT NOT NULL REFERENCES reg_system (id),
    kind        TEXT NOT NULL,
    inspector   TEXT NOT NULL,
    started_90k INTEGER NOT NULL,
    finished_90k INTEGER,
    ledger_seq  INTEGER
);
CREATE TABLE reg_inspection_item (
    inspection_id   INTEGER NOT NULL REFERENCES reg_inspection (id),
    item            TEXT NOT NULL,
    answer          TEXT NOT NULL CHECK (answer IN ('pass', 'fail', 'not_applicable')),
    note            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (inspection_id, item)
);
CREATE TABLE reg_rectification_order (
    id              INTEGER PRIMARY KEY,
    inspection_id   INTEGER REFERENCES reg_inspection (id),
    system_id       TEXT NOT NULL REFERENCES reg_system (id),
    issued_by       TEXT NOT NULL,
    issued_90k      INTEGER NOT NULL,
    deadline        TEXT NOT NULL,
    items           TEXT NOT NULL,                    -- JSON list of finding ids / failed items
    ledger_seq      INTEGER NOT NULL
);

-- Complaints about the supervising agencies (J3): append-only; the ledger holds each one too.
CREATE TABLE reg_complaint (
    id              INTEGER PRIMARY KEY,
    submitted_90k   INTEGER NOT NULL,
    against         TEXT NOT NULL,
    body            TEXT NOT NULL,
    contact         TEXT,
    sha256          TEXT NOT NULL,                    -- of the canonical JSON recorded in the ledger
    ledger_seq      INTEGER NOT NULL
);
CREATE TRIGGER reg_complaint_no_update BEFORE UPDATE ON reg_complaint
BEGIN SELECT RAISE(ABORT, 'complaints are append-only and cannot be altered (J3)'); END;
CREATE TRIGGER reg_complaint_no_delete BEFORE DELETE ON reg_complaint
BEGIN SELECT RAISE(ABORT, 'complaints are append-only and cannot be altered (J3)'); END;

-- Bookmarks on a camera's timeline (D6 reports and plain marks).
CREATE TABLE bookmark (
    id          INTEGER PRIMARY KEY,
    camera      TEXT NOT NULL,                        -- recorder camera name
    at_90k      INTEGER NOT NULL,
    note        TEXT NOT NULL,
    by_person   TEXT NOT NULL,
    created_90k INTEGER NOT NULL,
    hold_id     INTEGER REFERENCES hold (id),
    ledger_seq  INTEGER
);
CREATE INDEX bookmark_camera_at ON bookmark (camera, at_90k);

-- Events for the console and the police side (D6 notifications, I4 alarm events).
CREATE TABLE reg_event (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,                        -- suspicious_report, ...
    camera      TEXT,
    at_90k      INTEGER NOT NULL,
    body        TEXT NOT NULL,                        -- JSON
    created_90k INTEGER NOT NULL
);
