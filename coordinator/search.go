package coordinator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator/replayscan"
	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/store"
)

// SessionQuery is a parsed session search such as
//
//	text:"Payment failed" selector:#error-modal url:/checkout has:error source:real
//
// Terms are ANDed. Bare words search the text that was on screen.
type SessionQuery struct {
	Text      []string // phrases that were on screen
	Selectors []string // #id, .class, [data-testid=x]
	URL       string   // substring of a visited page
	Route     string   // route of a visited page (/orders/:id), as vitals slice pages
	User      string
	Issue     string
	Country   string
	Device    string
	Browser   string
	HasError  bool
	HasReplay bool
	HasRage   bool
	// Source is "synthetic" (synthetic checks' sessions only), "real"
	// (none of them) or "" (both).
	Source   string
	From, To int64 // ms; 0 = open
}

// ParseSessionQuery parses the search syntax. Unknown keys are an error so
// that a typo does not silently match everything.
func ParseSessionQuery(q string) (SessionQuery, error) {
	var out SessionQuery
	terms, err := splitTerms(q)
	if err != nil {
		return out, err
	}
	for _, t := range terms {
		key, val, ok := strings.Cut(t, ":")
		if !ok || strings.HasPrefix(t, `"`) {
			out.Text = append(out.Text, strings.Trim(t, `"`))
			continue
		}
		val = strings.Trim(val, `"`)
		if val == "" {
			return out, fmt.Errorf("search: %s: needs a value", key)
		}
		switch key {
		case "text":
			out.Text = append(out.Text, val)
		case "selector", "sel":
			if replayscan.SelectorToken(val) == "" {
				return out, fmt.Errorf("search: selector %q: use #id, .class or [data-testid=value]", val)
			}
			out.Selectors = append(out.Selectors, val)
		case "url":
			out.URL = val
		case "route":
			out.Route = route.Normalise(val)
		case "user":
			out.User = val
		case "issue":
			out.Issue = val
		case "country":
			out.Country = strings.ToUpper(val)
		case "device":
			out.Device = strings.ToLower(val)
		case "browser":
			out.Browser = val
		case "has":
			switch val {
			case "error", "errors":
				out.HasError = true
			case "replay":
				out.HasReplay = true
			case "rage", "rage_click", "rage-click":
				out.HasRage = true
			default:
				return out, fmt.Errorf("search: has:%s: want error, replay or rage", val)
			}
		case "source":
			if val != "synthetic" && val != "real" {
				return out, fmt.Errorf("search: source:%s: want synthetic or real", val)
			}
			out.Source = val
		case "from", "to":
			ts, err := parseTime(val)
			if err != nil {
				return out, fmt.Errorf("search: %s: %w", key, err)
			}
			if key == "from" {
				out.From = ts
			} else {
				out.To = ts
			}
		default:
			return out, fmt.Errorf("search: unknown key %q (text, selector, url, route, user, issue, country, device, browser, has, from, to)", key)
		}
	}
	return out, nil
}

func parseTime(v string) (int64, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixMilli(), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil { // "24h" means 24 hours ago
		return time.Now().Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("%q is not ms, RFC 3339, a date or a duration", v)
}

// splitTerms splits on spaces outside double quotes.
func splitTerms(q string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote := false
	for _, r := range q {
		switch {
		case r == '"':
			inQuote = !inQuote
			cur.WriteRune(r)
		case r == ' ' && !inQuote:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("search: unclosed quote")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// ftsPhrase quotes a phrase for FTS5.
func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// fts5 is the text condition for SQLite: one MATCH over both columns.
func (q SessionQuery) fts5(project string) (string, []any) {
	var fts []string
	for _, t := range q.Text {
		fts = append(fts, "text:"+ftsPhrase(t))
	}
	for _, s := range q.Selectors {
		fts = append(fts, "selectors:"+ftsPhrase(replayscan.SelectorToken(s)))
	}
	return `id IN (SELECT session_id FROM session_text WHERE session_text MATCH ? AND project = ?)`, []any{strings.Join(fts, " AND "), project}
}

// tsquery is the text condition for Postgres: a phrase query per term on
// the generated tsvector columns (GIN-indexed).
func (q SessionQuery) tsquery(project string) (string, []any) {
	conds := []string{"project = ?"}
	args := []any{project}
	for _, t := range q.Text {
		conds = append(conds, "text_tsv @@ phraseto_tsquery('simple', ?)")
		args = append(args, t)
	}
	for _, s := range q.Selectors {
		conds = append(conds, "selectors_tsv @@ phraseto_tsquery('simple', ?)")
		args = append(args, replayscan.SelectorToken(s))
	}
	return `id IN (SELECT session_id FROM session_text WHERE ` + strings.Join(conds, " AND ") + `)`, args
}

// where returns the SQL conditions (on table sessions) and their arguments.
// Text and selector terms must all match one segment's row, in either
// engine's full-text search.
func (q SessionQuery) where(d store.Dialect, project string) (string, []any) {
	conds := []string{"project = ?"}
	args := []any{project}
	if len(q.Text)+len(q.Selectors) > 0 {
		var cond string
		var fts []any
		if d == store.Postgres {
			cond, fts = q.tsquery(project)
		} else {
			cond, fts = q.fts5(project)
		}
		conds = append(conds, cond)
		args = append(args, fts...)
	}
	if q.URL != "" {
		conds = append(conds, `id IN (SELECT session_id FROM session_pages WHERE project = ? AND instr(url, ?) > 0)`)
		args = append(args, project, q.URL)
	}
	if q.Route != "" {
		conds = append(conds, `id IN (SELECT session_id FROM session_pages WHERE project = ? AND route = ?)`)
		args = append(args, project, q.Route)
	}
	if q.Issue != "" {
		conds = append(conds, `id IN (SELECT session_id FROM events WHERE project = ? AND issue_id = ?)`)
		args = append(args, project, q.Issue)
	}
	for _, f := range []struct{ col, v string }{{"user_id", q.User}, {"country", q.Country}, {"device_class", q.Device}, {"browser", q.Browser}} {
		if f.v != "" {
			conds = append(conds, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	if q.HasError {
		conds = append(conds, "errors > 0")
	}
	if q.HasReplay {
		conds = append(conds, "segments > 0")
	}
	if q.HasRage {
		conds = append(conds, "rage_clicks > 0")
	}
	switch q.Source {
	case "synthetic":
		conds = append(conds, "flag_synthetic = 1")
	case "real":
		conds = append(conds, "flag_synthetic = 0")
	}
	if q.From > 0 {
		conds = append(conds, "last_seen >= ?")
		args = append(args, q.From)
	}
	if q.To > 0 {
		conds = append(conds, "started_at <= ?")
		args = append(args, q.To)
	}
	return strings.Join(conds, " AND "), args
}
