-- Synthetic monitoring (coordinator/synthetic). A session a synthetic check
-- recorded (the SDK's flag or the edge's Rv-Synthetic header): its errors
-- become issues, its vitals and error counts stay out of RUM.
ALTER TABLE sessions ADD COLUMN flag_synthetic BIGINT NOT NULL DEFAULT 0;

-- One result of a check: a Lighthouse lab run of a URL or a scripted
-- journey, from `rearview synthetic run` (source ci) or a coordinator's
-- scheduled probe (source probe). id is the runner's, so a retried upload
-- stores it once. metrics is a JSON object (LCP, CLS, TBT, FCP, TTFB, SI in
-- ms, CLS unitless, score 0..1); detail holds a journey's steps.
CREATE TABLE synthetic_runs (
	project     TEXT NOT NULL,
	id          TEXT NOT NULL,
	run_id      TEXT NOT NULL,
	source      TEXT NOT NULL,
	release     TEXT NOT NULL DEFAULT '',
	profile     TEXT NOT NULL,
	check_name  TEXT NOT NULL,
	kind        TEXT NOT NULL,
	url         TEXT NOT NULL,
	route       TEXT NOT NULL,
	ts          BIGINT NOT NULL,
	passed      BIGINT NOT NULL,
	duration_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
	metrics     TEXT NOT NULL DEFAULT '{}',
	error       TEXT NOT NULL DEFAULT '',
	session_id  TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT '{}',
	PRIMARY KEY (project, id)
);
CREATE INDEX synthetic_runs_by_release ON synthetic_runs (project, release, ts);
CREATE INDEX synthetic_runs_by_ts ON synthetic_runs (project, source, ts);
