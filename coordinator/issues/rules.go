package issues

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rearview-dev/rearview/coordinator/fingerprint"
)

// projectRules returns the project's parsed grouping rules, parsing only
// when they changed. The version is read once per project and transaction
// (a round trip per event on a server database otherwise): a rules change
// applies from the next batch on.
func (s *Service) projectRules(ctx context.Context, tx *sql.Tx, project string) (*fingerprint.Rules, error) {
	st := s.inTx(ctx)
	if r, ok := st.rules[project]; ok {
		return r, nil
	}
	r, err := s.readRules(ctx, tx, project)
	if err != nil {
		return nil, err
	}
	st.rules[project] = r
	return r, nil
}

func (s *Service) readRules(ctx context.Context, tx *sql.Tx, project string) (*fingerprint.Rules, error) {
	var version int64
	err := s.queryRow(ctx, tx, stRulesVersion, project).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("grouping rules of %s: %w", project, err)
	}
	s.mu.Lock()
	c, ok := s.rules[project]
	s.mu.Unlock()
	if ok && c.version == version {
		return c.rules, nil
	}
	var text string
	if err := tx.QueryRowContext(ctx, `SELECT rules FROM grouping_rules WHERE project = ?`, project).Scan(&text); err != nil {
		return nil, fmt.Errorf("grouping rules of %s: %w", project, err)
	}
	rules, err := fingerprint.Parse(text)
	if err != nil {
		// Stored rules were validated; a parser change must not stop
		// ingestion, so the project falls back to default grouping.
		s.log.Error("stored grouping rules do not parse; using default grouping", "project", project, "err", err)
		rules = nil
	}
	s.mu.Lock()
	s.rules[project] = cachedRules{version: version, rules: rules}
	s.mu.Unlock()
	return rules, nil
}

// Rules is a project's grouping rules text as stored.
type Rules struct {
	Project          string `json:"project"`
	Rules            string `json:"rules"`
	Version          int64  `json:"version"`
	UpdatedAt        int64  `json:"updated_at,omitempty"`
	FingerprintRules int    `json:"fingerprint_rules"`
	StackRules       int    `json:"stack_rules"`
}

// GetRules returns a project's grouping rules (empty when none were set).
func (s *Service) GetRules(ctx context.Context, project string) (Rules, error) {
	out := Rules{Project: project}
	err := s.db.QueryRowContext(ctx, `SELECT rules, version, updated_at FROM grouping_rules WHERE project = ?`, project).Scan(&out.Rules, &out.Version, &out.UpdatedAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Rules{}, fmt.Errorf("grouping rules of %s: %w", project, err)
	}
	if r, err := fingerprint.Parse(out.Rules); err == nil {
		out.FingerprintRules, out.StackRules = r.Len()
	}
	return out, nil
}

// SetRules validates and stores a project's grouping rules; new events
// group by them from then on. The error is a *fingerprint.SyntaxError for
// rules that do not parse.
func (s *Service) SetRules(ctx context.Context, project, text string) (Rules, error) {
	r, err := fingerprint.Parse(text)
	if err != nil {
		return Rules{}, err
	}
	now := s.now().UnixMilli()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO grouping_rules (project, rules, updated_at, version) VALUES (?, ?, ?, 1)
ON CONFLICT (project) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at, version = grouping_rules.version + 1`, project, text, now); err != nil {
		return Rules{}, fmt.Errorf("store grouping rules of %s: %w", project, err)
	}
	out, err := s.GetRules(ctx, project)
	if err != nil {
		return Rules{}, err
	}
	out.FingerprintRules, out.StackRules = r.Len()
	return out, nil
}
