-- Vitals whose page is known only by its span (coordinator/vitals).
--
-- Sentry's browser SDK sends LCP, CLS and INP when a page is hidden, in an
-- envelope of their own that names the page's pageload span but not its
-- URL. vital_pages keeps the route of every page span a page view or a vital
-- came with a URL for; a vital without one takes its page span's route. A
-- sample whose page span is not known yet waits in the outbox (page_span
-- set, held_until the coordinator's clock in ms until which the folder
-- leaves it) under a guessed route; the folder gives it its page's route
-- once that is known, or folds it under the guess after held_until.
CREATE TABLE vital_pages (
	project  TEXT NOT NULL,
	span_id  TEXT NOT NULL,
	route    TEXT NOT NULL,
	ts       BIGINT NOT NULL,
	PRIMARY KEY (project, span_id)
);
CREATE INDEX vital_pages_by_age ON vital_pages (ts);
ALTER TABLE vital_samples ADD COLUMN page_span TEXT NOT NULL DEFAULT '';
ALTER TABLE vital_samples ADD COLUMN held_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX vital_samples_by_page_span ON vital_samples (project, page_span) WHERE page_span != '';
