-- Session index for the player and for search (issue 6).
ALTER TABLE sessions ADD COLUMN device_class TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN browser TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN os TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN pages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rage_clicks INTEGER NOT NULL DEFAULT 0;

CREATE TABLE session_pages (
	project    TEXT NOT NULL,
	session_id TEXT NOT NULL,
	url        TEXT NOT NULL,
	first_ts   INTEGER NOT NULL,
	PRIMARY KEY (project, session_id, url)
) WITHOUT ROWID;

-- What was on screen, one row per replay segment: text and selector tokens
-- (see replayscan.SelectorToken). '_' is a token character so that a
-- selector token stays one token.
CREATE VIRTUAL TABLE session_text USING fts5(
	project UNINDEXED,
	session_id UNINDEXED,
	segment UNINDEXED,
	text,
	selectors,
	tokenize = "unicode61 tokenchars '_'"
);
