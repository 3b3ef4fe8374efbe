-- Web vitals (issue 7, coordinator/vitals).
--
-- vital_samples is an outbox: the coordinator's event hook inserts one row
-- per NEW vital event inside the transaction that stores the event, so a
-- sample is recorded exactly once however often NATS redelivers. A folder
-- moves rows into vital_sketches and deletes them in one transaction, so a
-- crash at any point neither loses nor double counts a sample. Queries read
-- both tables in one snapshot.
CREATE TABLE vital_samples (
	seq      INTEGER PRIMARY KEY,
	project  TEXT NOT NULL,
	metric   TEXT NOT NULL,
	ts       INTEGER NOT NULL,
	route    TEXT NOT NULL,
	device   TEXT NOT NULL,
	country  TEXT NOT NULL,
	browser  TEXT NOT NULL,
	release  TEXT NOT NULL,
	value    REAL NOT NULL
);
CREATE INDEX vital_samples_by_time ON vital_samples (project, metric, ts);

-- One DDSketch (sketches-go encoding) per slice, metric and time bucket, at
-- three resolutions: res = 60000 (minute), 3600000 (hour), 86400000 (day).
-- good/ni/poor are exact counts by Google's thresholds.
CREATE TABLE vital_sketches (
	project  TEXT NOT NULL,
	metric   TEXT NOT NULL,
	res      INTEGER NOT NULL,
	bucket   INTEGER NOT NULL,
	route    TEXT NOT NULL,
	device   TEXT NOT NULL,
	country  TEXT NOT NULL,
	browser  TEXT NOT NULL,
	release  TEXT NOT NULL,
	good     INTEGER NOT NULL,
	ni       INTEGER NOT NULL,
	poor     INTEGER NOT NULL,
	sketch   BLOB NOT NULL,
	PRIMARY KEY (project, metric, res, bucket, route, device, country, browser, release)
) WITHOUT ROWID;
-- Retention deletes by resolution and age across projects.
CREATE INDEX vital_sketches_by_age ON vital_sketches (res, bucket);
