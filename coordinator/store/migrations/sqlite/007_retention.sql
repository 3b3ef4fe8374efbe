-- Per-project retention; 0 means the coordinator's default.
ALTER TABLE projects ADD COLUMN replay_retention_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN event_retention_days INTEGER NOT NULL DEFAULT 0;
CREATE INDEX replay_segments_by_time ON replay_segments (project, ts);
CREATE INDEX sessions_by_last_seen ON sessions (project, last_seen);
