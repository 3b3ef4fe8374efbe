-- The Postgres schema, equal to SQLite's migrations 001-009 (see
-- ../sqlite/): the same tables, columns and keys, with Postgres's types
-- (BIGINT for SQLite's INTEGER, which holds Unix ms; BYTEA for BLOB;
-- identity columns for INTEGER PRIMARY KEY) and its own full-text search.

-- SQLite's scalar two-argument max/min and instr, so that the statements the
-- coordinator shares between both engines run here unchanged.
CREATE FUNCTION max(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT greatest($1, $2)';
CREATE FUNCTION min(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT least($1, $2)';
CREATE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos($1, $2)';

CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	ingest_key  TEXT NOT NULL UNIQUE,
	token_hash  TEXT NOT NULL UNIQUE,
	created_at  BIGINT NOT NULL,
	replay_retention_days BIGINT NOT NULL DEFAULT 0,
	event_retention_days  BIGINT NOT NULL DEFAULT 0
);

-- One row per event id: the insert that finds the id already there is what
-- makes processing idempotent under redelivery, by any coordinator.
CREATE TABLE events (
	project     TEXT NOT NULL,
	id          TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	kind        TEXT NOT NULL,
	ts          BIGINT NOT NULL,
	received_at BIGINT NOT NULL,
	region      TEXT NOT NULL DEFAULT '',
	country     TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	trace_id    TEXT,
	issue_id    TEXT,
	payload     TEXT NOT NULL,
	PRIMARY KEY (project, id)
);
CREATE INDEX events_by_session ON events (project, session_id, ts);
CREATE INDEX events_by_kind ON events (project, kind, ts);
CREATE INDEX events_by_trace ON events (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX events_by_issue ON events (project, issue_id, ts) WHERE issue_id IS NOT NULL;

CREATE TABLE sessions (
	project       TEXT NOT NULL,
	id            TEXT NOT NULL,
	started_at    BIGINT NOT NULL,
	last_seen     BIGINT NOT NULL,
	user_id       TEXT NOT NULL DEFAULT '',
	first_url     TEXT NOT NULL DEFAULT '',
	last_url      TEXT NOT NULL DEFAULT '',
	ua            TEXT NOT NULL DEFAULT '',
	viewport_w    BIGINT NOT NULL DEFAULT 0,
	viewport_h    BIGINT NOT NULL DEFAULT 0,
	region        TEXT NOT NULL DEFAULT '',
	country       TEXT NOT NULL DEFAULT '',
	flag_error    BIGINT NOT NULL DEFAULT 0,
	flag_support  BIGINT NOT NULL DEFAULT 0,
	events        BIGINT NOT NULL DEFAULT 0,
	errors        BIGINT NOT NULL DEFAULT 0,
	segments      BIGINT NOT NULL DEFAULT 0,
	replay_bytes  BIGINT NOT NULL DEFAULT 0,
	device_class  TEXT NOT NULL DEFAULT '',
	browser       TEXT NOT NULL DEFAULT '',
	os            TEXT NOT NULL DEFAULT '',
	pages         BIGINT NOT NULL DEFAULT 0,
	clicks        BIGINT NOT NULL DEFAULT 0,
	rage_clicks   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (project, id)
);
CREATE INDEX sessions_by_time ON sessions (project, last_seen);

CREATE TABLE replay_segments (
	project     TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	segment     BIGINT NOT NULL,
	event_id    TEXT NOT NULL,
	ts          BIGINT NOT NULL,
	end_ts      BIGINT NOT NULL,
	from_buffer BIGINT NOT NULL DEFAULT 0,
	blob_key    TEXT NOT NULL,
	bytes       BIGINT NOT NULL,
	raw_bytes   BIGINT NOT NULL,
	PRIMARY KEY (project, session_id, segment)
);
CREATE INDEX replay_segments_by_time ON replay_segments (project, ts);

CREATE TABLE outcome_reasons (
	stream_seq  BIGINT NOT NULL,
	project     TEXT NOT NULL,
	region      TEXT NOT NULL,
	ts          BIGINT NOT NULL,
	reason      TEXT NOT NULL,
	count       BIGINT NOT NULL,
	PRIMARY KEY (stream_seq, reason)
);
CREATE INDEX outcome_reasons_by_project ON outcome_reasons (project, ts);

CREATE TABLE session_pages (
	project    TEXT NOT NULL,
	session_id TEXT NOT NULL,
	url        TEXT NOT NULL,
	first_ts   BIGINT NOT NULL,
	route      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (project, session_id, url)
);
CREATE INDEX session_pages_by_route ON session_pages (project, route);

-- What was on screen, one row per replay segment, searched with tsvector
-- and GIN ('simple': no stemming, as SQLite's unicode61). Postgres's parser
-- splits a selector token at '_' where FTS5 keeps it whole; a phrase query
-- of its parts, as search builds it, matches the same rows.
CREATE TABLE session_text (
	project    TEXT NOT NULL,
	session_id TEXT NOT NULL,
	segment    BIGINT NOT NULL,
	text       TEXT NOT NULL,
	selectors  TEXT NOT NULL,
	text_tsv      tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
	selectors_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', selectors)) STORED
);
CREATE INDEX session_text_by_segment ON session_text (project, session_id, segment);
CREATE INDEX session_text_text ON session_text USING GIN (text_tsv);
CREATE INDEX session_text_selectors ON session_text USING GIN (selectors_tsv);

CREATE TABLE sourcemaps (
	project     TEXT NOT NULL,
	id          TEXT NOT NULL,
	sha256      TEXT NOT NULL,
	release     TEXT NOT NULL DEFAULT '',
	dist        TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	map_url     TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL DEFAULT '',
	debug_id    TEXT NOT NULL DEFAULT '',
	size        BIGINT NOT NULL,
	sources     BIGINT NOT NULL,
	blob_key    TEXT NOT NULL,
	uploaded_at BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	PRIMARY KEY (project, id)
);
CREATE INDEX sourcemaps_by_debug_id ON sourcemaps (project, debug_id) WHERE debug_id != '';
CREATE INDEX sourcemaps_by_url ON sourcemaps (project, release, dist, url);
CREATE INDEX sourcemaps_by_map_url ON sourcemaps (project, release, dist, map_url) WHERE map_url != '';
CREATE INDEX sourcemaps_by_expiry ON sourcemaps (expires_at);
CREATE INDEX sourcemaps_by_blob ON sourcemaps (blob_key);

CREATE TABLE issues (
	project       TEXT NOT NULL,
	id            TEXT NOT NULL,
	title         TEXT NOT NULL,
	culprit       TEXT NOT NULL DEFAULT '',
	type          TEXT NOT NULL DEFAULT '',
	value         TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT 'unresolved',
	substatus     TEXT NOT NULL DEFAULT '',
	resolved_in   TEXT NOT NULL DEFAULT '',
	resolved_at   BIGINT,
	regressed_at  BIGINT,
	count         BIGINT NOT NULL DEFAULT 0,
	users         BIGINT NOT NULL DEFAULT 0,
	first_seen    BIGINT NOT NULL,
	last_seen     BIGINT NOT NULL,
	last_release  TEXT NOT NULL DEFAULT '',
	rule          TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (project, id)
);
CREATE INDEX issues_by_last_seen ON issues (project, status, last_seen);

CREATE TABLE issue_hashes (
	project   TEXT NOT NULL,
	hash      TEXT NOT NULL,
	issue_id  TEXT NOT NULL,
	variant   TEXT NOT NULL,
	PRIMARY KEY (project, hash)
);

CREATE TABLE issue_hourly (
	project   TEXT NOT NULL,
	issue_id  TEXT NOT NULL,
	hour      BIGINT NOT NULL,
	count     BIGINT NOT NULL,
	PRIMARY KEY (project, issue_id, hour)
);

CREATE TABLE issue_users (
	project   TEXT NOT NULL,
	issue_id  TEXT NOT NULL,
	user_key  TEXT NOT NULL,
	PRIMARY KEY (project, issue_id, user_key)
);

CREATE TABLE issue_releases (
	project     TEXT NOT NULL,
	issue_id    TEXT NOT NULL,
	release     TEXT NOT NULL,
	first_seen  BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL,
	count       BIGINT NOT NULL,
	PRIMARY KEY (project, issue_id, release)
);

CREATE TABLE project_releases (
	project     TEXT NOT NULL,
	release     TEXT NOT NULL,
	first_seen  BIGINT NOT NULL,
	seq         BIGINT NOT NULL,
	PRIMARY KEY (project, release)
);

CREATE TABLE grouping_rules (
	project     TEXT PRIMARY KEY,
	rules       TEXT NOT NULL,
	updated_at  BIGINT NOT NULL,
	version     BIGINT NOT NULL
);

CREATE TABLE vital_samples (
	seq      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	project  TEXT NOT NULL,
	metric   TEXT NOT NULL,
	ts       BIGINT NOT NULL,
	route    TEXT NOT NULL,
	device   TEXT NOT NULL,
	country  TEXT NOT NULL,
	browser  TEXT NOT NULL,
	release  TEXT NOT NULL,
	value    DOUBLE PRECISION NOT NULL
);
CREATE INDEX vital_samples_by_time ON vital_samples (project, metric, ts);

CREATE TABLE vital_sketches (
	project  TEXT NOT NULL,
	metric   TEXT NOT NULL,
	res      BIGINT NOT NULL,
	bucket   BIGINT NOT NULL,
	route    TEXT NOT NULL,
	device   TEXT NOT NULL,
	country  TEXT NOT NULL,
	browser  TEXT NOT NULL,
	release  TEXT NOT NULL,
	good     BIGINT NOT NULL,
	ni       BIGINT NOT NULL,
	poor     BIGINT NOT NULL,
	sketch   BYTEA NOT NULL,
	PRIMARY KEY (project, metric, res, bucket, route, device, country, browser, release)
);
CREATE INDEX vital_sketches_by_age ON vital_sketches (res, bucket);

CREATE TABLE alert_rules (
	id          TEXT PRIMARY KEY,
	project     TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	scope       TEXT NOT NULL DEFAULT '',
	target      TEXT NOT NULL DEFAULT '',
	factor      DOUBLE PRECISION NOT NULL DEFAULT 0,
	min_count   BIGINT NOT NULL DEFAULT 0,
	window_ms   BIGINT NOT NULL DEFAULT 0,
	metric      TEXT NOT NULL DEFAULT '',
	threshold   DOUBLE PRECISION NOT NULL DEFAULT 0,
	cooldown_ms BIGINT NOT NULL DEFAULT 0,
	webhook     TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL
);
CREATE INDEX alert_rules_by_project ON alert_rules (project);

CREATE TABLE alert_counts (
	project TEXT NOT NULL,
	scope   TEXT NOT NULL,
	key     TEXT NOT NULL,
	minute  BIGINT NOT NULL,
	count   BIGINT NOT NULL,
	PRIMARY KEY (project, scope, key, minute)
);
CREATE INDEX alert_counts_by_age ON alert_counts (minute);

CREATE TABLE alert_history (
	id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	rule_id   TEXT NOT NULL,
	project   TEXT NOT NULL,
	kind      TEXT NOT NULL,
	key       TEXT NOT NULL,
	fired_at  BIGINT NOT NULL,
	value     DOUBLE PRECISION NOT NULL,
	baseline  DOUBLE PRECISION NOT NULL,
	message   TEXT NOT NULL,
	delivered BIGINT NOT NULL DEFAULT 0,
	error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_by_rule ON alert_history (rule_id, key, fired_at);
CREATE INDEX alert_history_by_project ON alert_history (project, fired_at);

CREATE TABLE alert_deliveries (
	history_id BIGINT PRIMARY KEY REFERENCES alert_history (id) ON DELETE CASCADE,
	attempts   BIGINT NOT NULL DEFAULT 0,
	last_at    BIGINT,
	next_at    BIGINT
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE next_at IS NOT NULL;
