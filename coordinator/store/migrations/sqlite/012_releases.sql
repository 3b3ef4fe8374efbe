-- Releases as sentry-cli declares them (`releases new`, `releases finalize`;
-- coordinator/sentryapi): one row per project and version. Rearview's own
-- view of a release comes from its events and source maps; these rows
-- record what CI said and when.
CREATE TABLE releases (
	project     TEXT NOT NULL,
	version     TEXT NOT NULL,
	url         TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	started_at  INTEGER,
	released_at INTEGER,
	PRIMARY KEY (project, version)
) WITHOUT ROWID;
CREATE INDEX releases_by_version ON releases (version);
