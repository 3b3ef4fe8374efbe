package alert

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"go.yaml.in/yaml/v3"
)

const ruleCols = `id, project, name, kind, scope, target, factor, min_count, window_ms, metric, threshold, cooldown_ms, webhook, created_at`

// ErrNotFound is returned for a rule that does not exist.
var ErrNotFound = errors.New("alert rule not found")

// ErrOtherProject is returned by PutRule for a rule id that another project
// already uses: rule ids are global, and replacing the rule would silently
// move it (and its history's meaning) across projects.
var ErrOtherProject = errors.New("alert rule id belongs to another project")

type scanner interface{ Scan(...any) error }

func scanRule(sc scanner) (Rule, error) {
	var r Rule
	err := sc.Scan(&r.ID, &r.Project, &r.Name, &r.Kind, &r.Scope, &r.Target, &r.Factor, &r.MinCount, &r.WindowMS, &r.Metric, &r.Threshold, &r.CooldownMS, &r.Webhook, &r.CreatedAt)
	return r, err
}

// rule returns the rule with id, in whichever project.
func (a *Alerts) rule(ctx context.Context, id string) (Rule, error) {
	r, err := scanRule(a.db.QueryRowContext(ctx, `SELECT `+ruleCols+` FROM alert_rules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Rule{}, ErrNotFound
	}
	if err != nil {
		return Rule{}, fmt.Errorf("alert rule %s: %w", id, err)
	}
	return r, nil
}

// Rules lists the rules of project, or of every project for "".
func (a *Alerts) Rules(ctx context.Context, project string) ([]Rule, error) {
	q := `SELECT ` + ruleCols + ` FROM alert_rules`
	var args []any
	if project != "" {
		q += ` WHERE project = ?`
		args = append(args, project)
	}
	rows, err := a.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("list alert rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRule validates r and creates it, or replaces the rule with its id
// (keeping its creation time, so a reloaded config file does not re-fire
// new-issue rules). It refuses, with ErrOtherProject, an id that another
// project's rule has.
func (a *Alerts) PutRule(ctx context.Context, r Rule) (Rule, error) {
	return a.putRule(ctx, a.db, r)
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (a *Alerts) putRule(ctx context.Context, q querier, r Rule) (Rule, error) {
	if err := r.Normalize(); err != nil {
		return Rule{}, err
	}
	r.CreatedAt = a.opts.Now().UnixMilli()
	// The WHERE makes the project check part of the upsert: a conflicting
	// row of another project is left alone and RETURNING yields no row.
	err := q.QueryRowContext(ctx, `INSERT INTO alert_rules (`+ruleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, scope = excluded.scope,
	target = excluded.target, factor = excluded.factor, min_count = excluded.min_count, window_ms = excluded.window_ms,
	metric = excluded.metric, threshold = excluded.threshold, cooldown_ms = excluded.cooldown_ms, webhook = excluded.webhook
WHERE alert_rules.project = excluded.project
RETURNING created_at`,
		r.ID, r.Project, r.Name, string(r.Kind), r.Scope, r.Target, r.Factor, r.MinCount, r.WindowMS, r.Metric, r.Threshold, r.CooldownMS, r.Webhook, r.CreatedAt).Scan(&r.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		var owner string
		if err := q.QueryRowContext(ctx, `SELECT project FROM alert_rules WHERE id = ?`, r.ID).Scan(&owner); err != nil {
			return Rule{}, fmt.Errorf("save alert rule %s: %w", r.ID, err)
		}
		return Rule{}, fmt.Errorf("save alert rule %s for project %s: %w (%s); delete it there first or choose another id", r.ID, r.Project, ErrOtherProject, owner)
	}
	if err != nil {
		return Rule{}, fmt.Errorf("save alert rule %s: %w", r.ID, err)
	}
	return r, nil
}

// DeleteRule deletes project's rule id.
func (a *Alerts) DeleteRule(ctx context.Context, project, id string) error {
	res, err := a.db.ExecContext(ctx, `DELETE FROM alert_rules WHERE project = ? AND id = ?`, project, id)
	if err != nil {
		return fmt.Errorf("delete alert rule %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Fired is one entry of the alert history.
type Fired struct {
	ID        int64   `json:"id"`
	RuleID    string  `json:"rule_id"`
	Project   string  `json:"project"`
	Kind      Kind    `json:"kind"`
	Key       string  `json:"key"`
	FiredAt   int64   `json:"fired_at"`
	Value     float64 `json:"value"`
	Baseline  float64 `json:"baseline"`
	Message   string  `json:"message"`
	Delivered bool    `json:"delivered"`
	// Attempts is how many webhook deliveries were tried; NextAttemptAt,
	// when set, is when the next retry is due.
	Attempts      int    `json:"attempts"`
	NextAttemptAt int64  `json:"next_attempt_at,omitempty"`
	Error         string `json:"error,omitempty"`
}

// History returns project's fired alerts, newest first.
func (a *Alerts) History(ctx context.Context, project string, before int64, limit int) ([]Fired, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := a.db.QueryContext(ctx, `SELECT h.id, h.rule_id, h.project, h.kind, h.key, h.fired_at, h.value, h.baseline, h.message, h.delivered,
	coalesce(d.attempts, 0), coalesce(d.next_at, 0), h.error
FROM alert_history h LEFT JOIN alert_deliveries d ON d.history_id = h.id
WHERE h.project = ? AND h.fired_at < ? ORDER BY h.fired_at DESC, h.id DESC LIMIT ?`, project, before, limit)
	if err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	defer rows.Close()
	out := []Fired{}
	for rows.Next() {
		var f Fired
		if err := rows.Scan(&f.ID, &f.RuleID, &f.Project, &f.Kind, &f.Key, &f.FiredAt, &f.Value, &f.Baseline, &f.Message, &f.Delivered, &f.Attempts, &f.NextAttemptAt, &f.Error); err != nil {
			return nil, fmt.Errorf("alert history: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Config is an alert rules file: {"rules": [...]} in JSON or YAML.
type Config struct {
	Rules []Rule `json:"rules" yaml:"rules"`
}

// LoadConfig reads and validates a rules file. Every rule needs an id so
// that loading the file again updates rather than duplicates.
func LoadConfig(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alerts config: %w", err)
	}
	var c Config
	// YAML is a superset of JSON: one decoder reads both.
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("alerts config %s: %w", path, err)
	}
	for i := range c.Rules {
		if c.Rules[i].ID == "" {
			return nil, fmt.Errorf("alerts config %s: rule %d has no id", path, i+1)
		}
		if err := c.Rules[i].Normalize(); err != nil {
			return nil, fmt.Errorf("alerts config %s: %w", path, err)
		}
	}
	return c.Rules, nil
}

// LoadRules stores the rules of a config file (see LoadConfig) in one
// transaction: a file with a rule that cannot be saved (an id another
// project uses) changes nothing.
func (a *Alerts) LoadRules(ctx context.Context, path string) (int, error) {
	rules, err := LoadConfig(path)
	if err != nil {
		return 0, err
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("alerts config %s: %w", path, err)
	}
	defer tx.Rollback()
	for _, r := range rules {
		if _, err := a.putRule(ctx, tx, r); err != nil {
			return 0, fmt.Errorf("alerts config %s: %w", path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("alerts config %s: %w", path, err)
	}
	return len(rules), nil
}

// Payload is the Slack-compatible webhook body (incoming webhooks accept
// text plus Block Kit blocks; other receivers read text).
type Payload struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
	// Alert carries the machine-readable details for non-Slack receivers.
	Alert *Fired `json:"alert,omitempty"`
}

// Block is a Block Kit block.
type Block struct {
	Type     string       `json:"type"`
	Text     *TextObject  `json:"text,omitempty"`
	Elements []TextObject `json:"elements,omitempty"`
}

// TextObject is a Block Kit text object.
type TextObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// payloadOf is the notification of f, recorded as history entry id at
// firedAt; the id lets receivers drop a retried duplicate.
func payloadOf(f Firing, id, firedAt int64) Payload {
	ctx := fmt.Sprintf("rule `%s`", f.Rule.ID)
	if f.Rule.Name != "" {
		ctx = fmt.Sprintf("rule *%s* (`%s`)", f.Rule.Name, f.Rule.ID)
	}
	return Payload{
		Text: ":rotating_light: " + f.Message,
		Blocks: []Block{
			{Type: "section", Text: &TextObject{Type: "mrkdwn", Text: ":rotating_light: *" + f.Message + "*"}},
			{Type: "context", Elements: []TextObject{{Type: "mrkdwn", Text: fmt.Sprintf("%s · project `%s` · %s", ctx, f.Rule.Project, f.Rule.Kind)}}},
		},
		Alert: &Fired{ID: id, FiredAt: firedAt, RuleID: f.Rule.ID, Project: f.Rule.Project, Kind: f.Rule.Kind, Key: f.Key, Value: f.Value, Baseline: f.Baseline, Message: f.Message},
	}
}

func (a *Alerts) send(ctx context.Context, url string, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", redactURL(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: status %s", resp.Status)
	}
	return nil
}
