-- Delivery state of every alert notification that has a webhook: attempts
-- made and when the next one is due (NULL once delivered or given up).
CREATE TABLE alert_deliveries (
	history_id INTEGER PRIMARY KEY REFERENCES alert_history (id) ON DELETE CASCADE,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_at    INTEGER,
	next_at    INTEGER
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE next_at IS NOT NULL;
