-- Recording core schema. Every time column is 90 kHz units since the Unix epoch (suffix _90k).

-- A camera: one physical capture device with one or two streams.
CREATE TABLE camera (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,          -- short name used on the CLI and in paths
    retention_days  INTEGER NOT NULL CHECK (retention_days >= 30), -- legal minimum (F1)
    created_90k     INTEGER NOT NULL
);

-- A stream of a camera (main = full resolution, sub = low resolution for walls/thumbnails).
CREATE TABLE stream (
    id          INTEGER PRIMARY KEY,
    camera_id   INTEGER NOT NULL REFERENCES camera (id),
    kind        TEXT NOT NULL CHECK (kind IN ('main', 'sub')),
    url         TEXT NOT NULL,                     -- RTSP URL without credentials
    UNIQUE (camera_id, kind)
);

-- One fragmented-MP4 file of about a minute. Rows are never removed: a retention deletion
-- marks the row 'deleted' so verifiers can tell "expired" from "missing".
CREATE TABLE segment (
    id               INTEGER PRIMARY KEY,
    stream_id        INTEGER NOT NULL REFERENCES stream (id),
    state            TEXT NOT NULL CHECK (state IN ('open', 'sealed', 'deleted')),
    path             TEXT NOT NULL UNIQUE,          -- relative to the data directory
    start_90k        INTEGER NOT NULL,              -- wall time of the first presented frame
    end_90k          INTEGER,                       -- wall time just after the last frame
    media_start_90k  INTEGER NOT NULL,              -- media-clock time of the first frame
    media_end_90k    INTEGER,
    frames           INTEGER,
    key_frames       INTEGER,
    bytes            INTEGER,
    sha256           TEXT,                          -- hex SHA-256 of the whole sealed file
    codec            TEXT NOT NULL,                 -- h264 | h265
    width            INTEGER NOT NULL,
    height           INTEGER NOT NULL,
    recovered        INTEGER NOT NULL DEFAULT 0,    -- 1 if sealed by crash recovery
    sealed_90k       INTEGER,                       -- when it was sealed
    deleted_90k      INTEGER,                       -- when retention deleted it
    delete_reason    TEXT
);
CREATE INDEX segment_stream_start ON segment (stream_id, start_90k);
CREATE INDEX segment_state ON segment (state);

-- An interval with no footage, with the reason (E7: gaps are recorded, never papered over).
CREATE TABLE gap (
    id          INTEGER PRIMARY KEY,
    stream_id   INTEGER NOT NULL REFERENCES stream (id),
    start_90k   INTEGER NOT NULL,
    end_90k     INTEGER NOT NULL CHECK (end_90k >= start_90k),
    reason      TEXT NOT NULL
);
CREATE INDEX gap_stream_start ON gap (stream_id, start_90k);

-- A legal hold (E5): footage of the camera in [start, end) is never deleted while held.
CREATE TABLE hold (
    id              INTEGER PRIMARY KEY,
    camera_id       INTEGER NOT NULL REFERENCES camera (id),
    start_90k       INTEGER NOT NULL,
    end_90k         INTEGER NOT NULL,
    case_number     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    placed_by       TEXT NOT NULL,
    placed_90k      INTEGER NOT NULL,
    released_by     TEXT,
    released_90k    INTEGER
);

-- Latest health of each stream, written by the recorder every few seconds (D1).
CREATE TABLE stream_status (
    stream_id       INTEGER PRIMARY KEY REFERENCES stream (id),
    state           TEXT NOT NULL,                  -- connecting | online | offline | stopped
    fps             REAL NOT NULL DEFAULT 0,
    bitrate_bps     REAL NOT NULL DEFAULT 0,
    last_frame_90k  INTEGER,
    reconnects      INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    updated_90k     INTEGER NOT NULL
);

-- Alarms raised by the recorder or sweeper (disk nearly full, camera offline, ...).
CREATE TABLE alarm (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    camera_id   INTEGER REFERENCES camera (id),
    message     TEXT NOT NULL,
    raised_90k  INTEGER NOT NULL,
    cleared_90k INTEGER
);
