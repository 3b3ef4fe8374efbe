-- Issues (coordinator/issues): error events grouped by fingerprint.
CREATE TABLE issues (
	project       TEXT NOT NULL,
	id            TEXT NOT NULL,
	title         TEXT NOT NULL,
	culprit       TEXT NOT NULL DEFAULT '',
	type          TEXT NOT NULL DEFAULT '',
	value         TEXT NOT NULL DEFAULT '',
	-- unresolved, resolved or ignored; substatus 'regressed' marks an
	-- issue that reopened after being resolved.
	status        TEXT NOT NULL DEFAULT 'unresolved',
	substatus     TEXT NOT NULL DEFAULT '',
	-- The newest release of the project when the issue was resolved:
	-- events of that release or older ones do not reopen it.
	resolved_in   TEXT NOT NULL DEFAULT '',
	resolved_at   INTEGER,
	regressed_at  INTEGER,
	count         INTEGER NOT NULL DEFAULT 0,
	users         INTEGER NOT NULL DEFAULT 0,
	first_seen    INTEGER NOT NULL,
	last_seen     INTEGER NOT NULL,
	last_release  TEXT NOT NULL DEFAULT '',
	rule          TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX issues_by_last_seen ON issues (project, status, last_seen);

-- Every hash an issue's events produced (app, system, message, custom):
-- an event joins the issue any of its hashes belongs to.
CREATE TABLE issue_hashes (
	project   TEXT NOT NULL,
	hash      TEXT NOT NULL,
	issue_id  TEXT NOT NULL,
	variant   TEXT NOT NULL,
	PRIMARY KEY (project, hash)
) WITHOUT ROWID;

-- Events per issue and hour (received time), for the trend.
CREATE TABLE issue_hourly (
	project   TEXT NOT NULL,
	issue_id  TEXT NOT NULL,
	hour      INTEGER NOT NULL, -- Unix ms at the start of the hour
	count     INTEGER NOT NULL,
	PRIMARY KEY (project, issue_id, hour)
) WITHOUT ROWID;

-- Distinct users per issue: a hash of the session's user id, or of the
-- session id when there is none; never the id itself.
CREATE TABLE issue_users (
	project   TEXT NOT NULL,
	issue_id  TEXT NOT NULL,
	user_key  TEXT NOT NULL,
	PRIMARY KEY (project, issue_id, user_key)
) WITHOUT ROWID;

CREATE TABLE issue_releases (
	project     TEXT NOT NULL,
	issue_id    TEXT NOT NULL,
	release     TEXT NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	PRIMARY KEY (project, issue_id, release)
) WITHOUT ROWID;

-- Releases of a project in the order they first appeared: "newer release"
-- means first seen later, since a git SHA has no order of its own.
CREATE TABLE project_releases (
	project     TEXT NOT NULL,
	release     TEXT NOT NULL,
	first_seen  INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	PRIMARY KEY (project, release)
) WITHOUT ROWID;

CREATE TABLE grouping_rules (
	project     TEXT PRIMARY KEY,
	rules       TEXT NOT NULL,
	updated_at  INTEGER NOT NULL,
	version     INTEGER NOT NULL
);

CREATE INDEX events_by_issue ON events (project, issue_id, ts) WHERE issue_id IS NOT NULL;
