-- When the coordinator committed each event (ms), beside received_at (when
-- the edge accepted it): accept-to-stored latency, measured by loadtest.
ALTER TABLE events ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0;
