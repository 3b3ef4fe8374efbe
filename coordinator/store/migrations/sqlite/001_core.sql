-- Core tables of the walking skeleton. Other packages (issues, vitals,
-- sourcemap, alert) create their own tables on the same database.
CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	ingest_key  TEXT NOT NULL UNIQUE,
	token_hash  TEXT NOT NULL UNIQUE,
	created_at  INTEGER NOT NULL
);

-- One row per event id: INSERT OR IGNORE here is what makes processing
-- idempotent under JetStream redelivery.
CREATE TABLE events (
	project     TEXT NOT NULL,
	id          TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	kind        TEXT NOT NULL,
	ts          INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	region      TEXT NOT NULL DEFAULT '',
	country     TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	trace_id    TEXT,
	issue_id    TEXT,
	payload     TEXT NOT NULL,
	PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX events_by_session ON events (project, session_id, ts);
CREATE INDEX events_by_kind ON events (project, kind, ts);
CREATE INDEX events_by_trace ON events (trace_id) WHERE trace_id IS NOT NULL;

CREATE TABLE sessions (
	project       TEXT NOT NULL,
	id            TEXT NOT NULL,
	started_at    INTEGER NOT NULL,
	last_seen     INTEGER NOT NULL,
	user_id       TEXT NOT NULL DEFAULT '',
	first_url     TEXT NOT NULL DEFAULT '',
	last_url      TEXT NOT NULL DEFAULT '',
	ua            TEXT NOT NULL DEFAULT '',
	viewport_w    INTEGER NOT NULL DEFAULT 0,
	viewport_h    INTEGER NOT NULL DEFAULT 0,
	region        TEXT NOT NULL DEFAULT '',
	country       TEXT NOT NULL DEFAULT '',
	flag_error    INTEGER NOT NULL DEFAULT 0,
	flag_support  INTEGER NOT NULL DEFAULT 0,
	events        INTEGER NOT NULL DEFAULT 0,
	errors        INTEGER NOT NULL DEFAULT 0,
	segments      INTEGER NOT NULL DEFAULT 0,
	replay_bytes  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX sessions_by_time ON sessions (project, last_seen);

CREATE TABLE replay_segments (
	project     TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	segment     INTEGER NOT NULL,
	event_id    TEXT NOT NULL,
	ts          INTEGER NOT NULL,
	end_ts      INTEGER NOT NULL,
	from_buffer INTEGER NOT NULL DEFAULT 0,
	blob_key    TEXT NOT NULL,
	bytes       INTEGER NOT NULL,
	raw_bytes   INTEGER NOT NULL,
	PRIMARY KEY (project, session_id, segment)
) WITHOUT ROWID;

-- What edges dropped and why: one row per reason of each outcome message,
-- keyed by the message's stream sequence so that redelivery counts once.
CREATE TABLE outcome_reasons (
	stream_seq  INTEGER NOT NULL,
	project     TEXT NOT NULL,
	region      TEXT NOT NULL,
	ts          INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	count       INTEGER NOT NULL,
	PRIMARY KEY (stream_seq, reason)
);
CREATE INDEX outcome_reasons_by_project ON outcome_reasons (project, ts);
