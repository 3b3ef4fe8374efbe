-- The route of each visited page (route.Normalise: /orders/:id), so that a
-- vitals slice links to the sessions that visited it.
ALTER TABLE session_pages ADD COLUMN route TEXT NOT NULL DEFAULT '';
CREATE INDEX session_pages_by_route ON session_pages (project, route);
