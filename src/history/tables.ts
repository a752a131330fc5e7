// The history database's tables. Documents are stored whole (JSON, as published) beside the columns
// the queries filter on; ids are ULIDs, so ORDER BY id is time order and serves as the page cursor.

/** PRAGMA application_id of a history database ("ACLH"): another program's SQLite file is refused. */
export const HISTORY_APPLICATION_ID = 0x41434c48;

export const HISTORY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    part_id TEXT,
    trigger_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    score REAL,
    at_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS results_camera ON results (camera_id, id);
  CREATE INDEX IF NOT EXISTS results_part ON results (part_id, id);
  CREATE INDEX IF NOT EXISTS results_verdict ON results (verdict, id);
  CREATE INDEX IF NOT EXISTS results_time ON results (at_ms);
  CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    transition TEXT NOT NULL,
    alarm_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_camera ON events (camera_id, id);
  CREATE INDEX IF NOT EXISTS events_severity ON events (severity, id);
  CREATE INDEX IF NOT EXISTS events_time ON events (at_ms);
  CREATE TABLE IF NOT EXISTS acknowledgements (
    alarm_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    by TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    comment TEXT
  );
  CREATE TABLE IF NOT EXISTS reviews (
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    label TEXT NOT NULL,
    by TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    comment TEXT,
    image TEXT,
    target TEXT NOT NULL,
    PRIMARY KEY (target_kind, target_id)
  );
  CREATE TABLE IF NOT EXISTS suspensions (
    camera_id TEXT PRIMARY KEY,
    since_ms INTEGER NOT NULL,
    until_ms INTEGER,
    by TEXT NOT NULL,
    door TEXT NOT NULL,
    comment TEXT
  );
`;
