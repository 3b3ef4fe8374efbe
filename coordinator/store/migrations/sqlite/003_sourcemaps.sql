-- Uploaded source maps (coordinator/sourcemap). The map bytes live in object
-- storage under blob_key, keyed by content hash so identical uploads share
-- one object; a row says which bundle (url, release, dist, debug id) a map
-- belongs to. Maps are read only by the symbolicator, never served.
CREATE TABLE sourcemaps (
	project     TEXT NOT NULL,
	id          TEXT NOT NULL,               -- hash of (release, dist, url, sha256)
	sha256      TEXT NOT NULL,               -- content hash of the map
	release     TEXT NOT NULL DEFAULT '',
	dist        TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',    -- bundle URL or ~/path the map describes
	map_url     TEXT NOT NULL DEFAULT '',    -- where the bundle's sourceMappingURL points
	name        TEXT NOT NULL DEFAULT '',    -- file name as uploaded (for messages)
	debug_id    TEXT NOT NULL DEFAULT '',
	size        INTEGER NOT NULL,
	sources     INTEGER NOT NULL,
	blob_key    TEXT NOT NULL,
	uploaded_at INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX sourcemaps_by_debug_id ON sourcemaps (project, debug_id) WHERE debug_id != '';
CREATE INDEX sourcemaps_by_url ON sourcemaps (project, release, dist, url);
CREATE INDEX sourcemaps_by_map_url ON sourcemaps (project, release, dist, map_url) WHERE map_url != '';
CREATE INDEX sourcemaps_by_expiry ON sourcemaps (expires_at);
CREATE INDEX sourcemaps_by_blob ON sourcemaps (blob_key);
