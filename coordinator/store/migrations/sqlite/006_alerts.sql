-- Alerts (issue 7, coordinator/alert).
CREATE TABLE alert_rules (
	id          TEXT PRIMARY KEY,
	project     TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,          -- error_rate | new_issue | regression | vital_p75
	scope       TEXT NOT NULL DEFAULT '', -- error_rate: page | issue
	target      TEXT NOT NULL DEFAULT '', -- route or issue id; '' = each one
	factor      REAL NOT NULL DEFAULT 0,
	min_count   INTEGER NOT NULL DEFAULT 0,
	window_ms   INTEGER NOT NULL DEFAULT 0,
	metric      TEXT NOT NULL DEFAULT '',
	threshold   REAL NOT NULL DEFAULT 0,
	cooldown_ms INTEGER NOT NULL DEFAULT 0,
	webhook     TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX alert_rules_by_project ON alert_rules (project);

-- Error events per project, scope (page | issue), key and minute, counted by
-- the coordinator hook inside the event's transaction: exactly once.
CREATE TABLE alert_counts (
	project TEXT NOT NULL,
	scope   TEXT NOT NULL,
	key     TEXT NOT NULL,
	minute  INTEGER NOT NULL,
	count   INTEGER NOT NULL,
	PRIMARY KEY (project, scope, key, minute)
) WITHOUT ROWID;
CREATE INDEX alert_counts_by_age ON alert_counts (minute);

-- Every alert that fired; (rule_id, key, fired_at) also drives cooldown and
-- dedupe, so a restart does not notify twice.
CREATE TABLE alert_history (
	id        INTEGER PRIMARY KEY,
	rule_id   TEXT NOT NULL,
	project   TEXT NOT NULL,
	kind      TEXT NOT NULL,
	key       TEXT NOT NULL,
	fired_at  INTEGER NOT NULL,
	value     REAL NOT NULL,
	baseline  REAL NOT NULL,
	message   TEXT NOT NULL,
	delivered INTEGER NOT NULL DEFAULT 0,
	error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_by_rule ON alert_history (rule_id, key, fired_at);
CREATE INDEX alert_history_by_project ON alert_history (project, fired_at);
