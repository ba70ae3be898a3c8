-- Where each camera sits in the organisation (E1 scopes): organisation / system / area. A
-- camera without a row is visible to nobody but administrators, who must place it; placing
-- comes from the configuration file or from an administrator, and every change is a ledger
-- entry written before the row (fail closed).
CREATE TABLE camera_area (
    camera      TEXT PRIMARY KEY NOT NULL,   -- camera name (recorder cameras and GB channels)
    org         TEXT NOT NULL,
    system      TEXT NOT NULL,
    area        TEXT NOT NULL,
    set_90k     INTEGER NOT NULL,            -- when it was placed (wall clock, 90 kHz)
    set_by      TEXT NOT NULL                -- who placed it (an account, or 'config')
);
