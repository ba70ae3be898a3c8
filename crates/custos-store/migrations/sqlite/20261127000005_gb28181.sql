-- GB/T 28181 devices and channels (I1, I2) as the platform saw them, so that other processes
-- (`custos gb devices`, the console) see registration and online state. A device or channel
-- that appears by REGISTER or Catalog is 'pending' in the registry until an administrator
-- accepts it (A2).
CREATE TABLE gb_device (
  id TEXT PRIMARY KEY NOT NULL,           -- 20-digit device code (validated before insert)
  transport TEXT NOT NULL,                -- 'UDP' or 'TCP' (signalling)
  addr TEXT NOT NULL,                     -- source address of the last REGISTER
  online INTEGER NOT NULL,                -- 1 while registered and keeping alive
  name TEXT NOT NULL DEFAULT '',          -- from DeviceInfo
  manufacturer TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  firmware TEXT NOT NULL DEFAULT '',
  registry_status TEXT NOT NULL DEFAULT 'pending', -- 'pending' | 'accepted' | 'rejected' (A2)
  offline_reason TEXT,                    -- why it last went offline
  first_seen_90k INTEGER NOT NULL,        -- first REGISTER (wall clock, 90 kHz)
  last_seen_90k INTEGER NOT NULL          -- last REGISTER, keepalive or message
);

CREATE TABLE gb_channel (
  device_id TEXT NOT NULL REFERENCES gb_device (id) ON DELETE CASCADE,
  id TEXT NOT NULL,                       -- 20-digit channel code from the Catalog
  name TEXT NOT NULL DEFAULT '',          -- as the device reports (GB18030/UTF-8 decoded)
  manufacturer TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  civil_code TEXT NOT NULL DEFAULT '',    -- administrative division (place, A2)
  address TEXT NOT NULL DEFAULT '',       -- installation place (A2)
  parent_id TEXT NOT NULL DEFAULT '',     -- catalog tree parent
  status TEXT NOT NULL DEFAULT '',        -- 'ON' / 'OFF' as the device reports
  longitude REAL,
  latitude REAL,
  code_valid INTEGER NOT NULL DEFAULT 1,  -- the code passed GB/T 28181 device-code validation
  registry_status TEXT NOT NULL DEFAULT 'pending', -- (A2)
  PRIMARY KEY (device_id, id)
);
