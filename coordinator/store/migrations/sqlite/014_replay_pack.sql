-- A session's replay segments are packed into one object (coordinator/
-- replaypack) once the session goes idle or ends; every segment row then
-- names that object and where its bytes start in the unpacked object.
-- raw_offset -1: blob_key is the segment's own object.
ALTER TABLE replay_segments ADD COLUMN raw_offset INTEGER NOT NULL DEFAULT -1;
-- When the session's replay is due to be packed (ms, the coordinator's
-- clock); 0 when there is nothing new to pack.
ALTER TABLE sessions ADD COLUMN replay_pack_due INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_replay_pack_due ON sessions (replay_pack_due) WHERE replay_pack_due > 0;
-- Objects that no row names any more since a pack replaced them, written
-- in the transaction that switched the rows and deleted after it: a crash
-- in between leaves them here for the next pass.
-- Keyed by session too, so that "does a row still name it" reads the
-- segments' primary key, not the whole table.
CREATE TABLE replay_garbage (
	blob_key   TEXT PRIMARY KEY,
	project    TEXT NOT NULL,
	session_id TEXT NOT NULL,
	since      INTEGER NOT NULL
);
