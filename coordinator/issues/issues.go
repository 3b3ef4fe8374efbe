// Package issues groups error events into issues. It hooks the
// coordinator's processing of every new error event: it symbolicates the
// stack, fingerprints the event under the project's grouping rules,
// creates or updates the issue (counts, users affected, releases, hourly
// trend, regressions) and stores the symbolicated event. Everything happens
// in the coordinator's transaction, so a redelivered message changes no
// count. Mount adds the issues API and the grouping-rules API.
package issues

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/fingerprint"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Symbolicator resolves an error's minified stack to original positions.
// It returns one frame per frame of e.Stack, innermost first; frames it
// cannot resolve keep their minified position and say why.
type Symbolicator interface {
	Symbolicate(ctx context.Context, project string, e *sdkproto.Error) ([]symbolicate.Frame, error)
}

// Options configure the issues service.
type Options struct {
	Logger *slog.Logger
	// Now is the clock for trends and status changes; nil means time.Now.
	Now func() time.Time
}

// Service groups error events and serves the issues API.
type Service struct {
	db  *sql.DB
	sym Symbolicator
	log *slog.Logger
	now func() time.Time
	// dialect picks the one-statement counting on Postgres.
	dialect store.Dialect

	mu    sync.Mutex
	rules map[string]cachedRules // by project

	stmts stmts
}

// txState is what the service keeps for one processing transaction
// (coordinator.TxLocal): the counts Flush writes, the rules each project
// had when the transaction first asked, and its handles on the prepared
// statements.
type txState struct {
	pend  pending
	rules map[string]*fingerprint.Rules
	stmts map[string]*sql.Stmt
}

// txKey is the service's key in its transactions' storage.
type txKey struct{ s *Service }

func (s *Service) inTx(ctx context.Context) *txState {
	return coordinator.TxLocal(ctx, txKey{s}, func() *txState {
		return &txState{
			pend:  pending{issues: map[issueKey]*issueDelta{}, owner: map[hashKey]string{}, relSeen: map[issueKey]int64{}},
			rules: map[string]*fingerprint.Rules{},
			stmts: map[string]*sql.Stmt{},
		}
	})
}

type cachedRules struct {
	version int64
	rules   *fingerprint.Rules
}

// Register hooks the service into c's processing of error events. A nil
// sym leaves frames unresolved (minified positions, in-app by URL). Pass a
// nil interface, not a typed nil pointer.
func Register(c *coordinator.Coordinator, sym Symbolicator, opts Options) *Service {
	s := New(c.DB(), sym, opts)
	c.OnStore(sdkproto.KindError, s.Group)
	c.OnEvent(sdkproto.KindError, s.Count)
	c.OnFlush(s.Flush)
	return s
}

// New returns a service on db without registering it; Register is the
// usual way in.
func New(db *sql.DB, sym Symbolicator, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, sym: sym, log: opts.Logger.With("component", "issues"), now: opts.Now, dialect: store.DialectOf(db), rules: map[string]cachedRules{}}
}

// Group is the coordinator.StoreHook for error events: it symbolicates
// the event, groups it into its issue (creating the issue and its hashes
// when they are new, which a redelivery finds done) and returns the issue
// and the event as stored. Count, the event hook, counts it once it is
// stored for the first time; Flush writes the counts before the commit.
func (s *Service) Group(ctx context.Context, tx *sql.Tx, m *coordinator.Message, ev *sdkproto.Event) (coordinator.Stored, error) {
	e := ev.Error
	if e == nil {
		return coordinator.Stored{}, nil
	}
	frames := s.symbolicate(ctx, m, e)
	rules, err := s.projectRules(ctx, tx, m.Project)
	if err != nil {
		return coordinator.Stored{}, err
	}
	u := e.URL
	if u == "" {
		u = m.Batch.Page.URL
	}
	fev := fingerprint.Event{
		Type: e.Type, Value: e.Value, Frames: frames, Tags: e.Tags, URL: u,
		Release: e.Release, Environment: e.Environment, Level: e.Level, Fingerprint: e.Fingerprint,
	}
	res := rules.Group(&fev)
	id, err := s.record(ctx, tx, m, ev, &res)
	if err != nil {
		return coordinator.Stored{}, err
	}
	payload, err := json.Marshal(storedEvent{
		Event:    *ev,
		Error:    &storedError{Error: *e, Stack: fev.Frames},
		Grouping: &grouping{Issue: id, Hashes: res.Hashes, Rule: res.Rule},
	})
	if err != nil {
		return coordinator.Stored{}, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	return coordinator.Stored{IssueID: id, Payload: payload}, nil
}

// Count is the coordinator.EventHook for error events: it counts a newly
// stored event for the issue Group put it in, for Flush to write.
func (s *Service) Count(ctx context.Context, tx *sql.Tx, m *coordinator.Message, ev *sdkproto.Event) error {
	id := m.IssueOf(ev.ID)
	if ev.Error == nil || id == "" {
		return nil
	}
	user := "s:" + m.Batch.Session.ID
	if m.Batch.Session.UserID != "" {
		user = "u:" + m.Batch.Session.UserID
	}
	s.pendingFor(ctx).add(m.Project, id, ev.Error.Release, hashID(m.Project, user), m.ReceivedAt)
	return nil
}

// storedEvent is the event as stored: its stack symbolicated. The outer
// Error field shadows the embedded one in JSON.
type storedEvent struct {
	sdkproto.Event
	Error    *storedError `json:"error,omitempty"`
	Grouping *grouping    `json:"grouping,omitempty"`
}

type storedError struct {
	sdkproto.Error
	Stack []symbolicate.Frame `json:"stack,omitempty"`
}

type grouping struct {
	Issue  string             `json:"issue"`
	Hashes []fingerprint.Hash `json:"hashes"`
	Rule   string             `json:"rule,omitempty"`
}

// symbolicate never fails: frames the symbolicator could not resolve, or
// all frames when it failed, stay minified with the reason.
func (s *Service) symbolicate(ctx context.Context, m *coordinator.Message, e *sdkproto.Error) []symbolicate.Frame {
	if s.sym != nil {
		frames, err := s.sym.Symbolicate(ctx, m.Project, e)
		if err == nil && len(frames) == len(e.Stack) {
			return frames
		}
		reason := "symbolication failed"
		if err != nil {
			s.log.Warn("symbolicate", "project", m.Project, "err", err)
			reason = "symbolication failed: " + err.Error()
		} else {
			s.log.Warn("symbolicate: wrong number of frames", "project", m.Project, "want", len(e.Stack), "got", len(frames))
		}
		return passthrough(e, m.Batch.Page.URL, reason)
	}
	return passthrough(e, m.Batch.Page.URL, "no symbolicator configured")
}

// passthrough keeps the minified frames, deciding in-app by URL alone.
func passthrough(e *sdkproto.Error, pageURL, reason string) []symbolicate.Frame {
	out := make([]symbolicate.Frame, len(e.Stack))
	host := hostOf(e.URL)
	if host == "" {
		host = hostOf(pageURL)
	}
	for i, f := range e.Stack {
		out[i] = symbolicate.Frame{Frame: f, InApp: inApp(f.URL, host), UnresolvedReason: reason}
	}
	return out
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}

// inApp: not node_modules, not a browser extension, not code the engine
// made up, and not a third-party origin (another site than the page's,
// comparing the last two labels so cdn.shop.com counts as shop.com).
func inApp(frameURL, pageHost string) bool {
	lu := strings.ToLower(frameURL)
	switch {
	case lu == "", lu == "<anonymous>", lu == "native", strings.Contains(lu, "/node_modules/"):
		return false
	case strings.HasPrefix(lu, "chrome-extension:"), strings.HasPrefix(lu, "moz-extension:"),
		strings.HasPrefix(lu, "safari-extension:"), strings.HasPrefix(lu, "safari-web-extension:"):
		return false
	}
	if h := hostOf(frameURL); h != "" && pageHost != "" && site(h) != site(pageHost) {
		return false
	}
	return true
}

func site(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) <= 2 {
		return host
	}
	return strings.Join(parts[len(parts)-2:], ".")
}

// hashID hashes parts into a short hex id; user ids are stored only so.
func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// record finds or creates the issue of an event and returns its id.
func (s *Service) record(ctx context.Context, tx *sql.Tx, m *coordinator.Message, ev *sdkproto.Event, res *fingerprint.Result) (string, error) {
	project, e := m.Project, ev.Error
	at := m.ReceivedAt
	p := s.pendingFor(ctx)
	id, missing, err := s.findIssue(ctx, tx, p, project, res.Hashes)
	if err != nil {
		return "", err
	}
	if id == "" {
		id = hashID(project, res.Hashes[0].Value)
		if _, err := s.exec(ctx, tx, stCreateIssue, project, id, res.Title, res.Culprit, e.Type, clip(e.Value, 1000), at, at, e.Release, res.Rule); err != nil {
			return "", fmt.Errorf("create issue: %w", err)
		}
	}
	if len(missing) > 0 {
		args := make([]any, 0, 4*len(missing))
		for _, h := range missing {
			args = append(args, project, h.Value, id, string(h.Variant))
			p.owner[hashKey{project, h.Value}] = id
		}
		st, err := s.stmtQ(ctx, tx, addHashesQuery(len(missing)))
		if err != nil {
			return "", err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return "", fmt.Errorf("issue hash: %w", err)
		}
	}
	return id, nil
}

// findIssue returns the issue owning the first of hashes that has one, and
// the hashes no issue owns yet: from what the transaction already knows
// when it knows them all (the common case: another event of an issue seen
// in this batch), else in one query.
func (s *Service) findIssue(ctx context.Context, tx *sql.Tx, p *pending, project string, hashes []fingerprint.Hash) (string, []fingerprint.Hash, error) {
	if id, ok := p.known(project, hashes); ok {
		return id, nil, nil
	}
	st, err := s.stmtQ(ctx, tx, findHashesQuery(len(hashes)))
	if err != nil {
		return "", nil, err
	}
	args := make([]any, 0, 1+len(hashes))
	args = append(args, project)
	for _, h := range hashes {
		args = append(args, h.Value)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return "", nil, fmt.Errorf("find issue: %w", err)
	}
	defer rows.Close()
	owner := make(map[string]string, len(hashes))
	for rows.Next() {
		var h, id string
		if err := rows.Scan(&h, &id); err != nil {
			return "", nil, fmt.Errorf("find issue: %w", err)
		}
		owner[h] = id
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("find issue: %w", err)
	}
	var id string
	var missing []fingerprint.Hash
	for _, h := range hashes {
		switch o, ok := owner[h.Value]; {
		case !ok:
			missing = append(missing, h)
			owner[h.Value] = "" // a value two variants share is added once
		case o != "":
			p.owner[hashKey{project, h.Value}] = o
			if id == "" {
				id = o
			}
		}
	}
	return id, missing, nil
}

// isNewer reports whether an event of release reopens an issue resolved in
// resolvedIn: any event does when the issue was resolved without a release;
// otherwise only a release first seen after resolvedIn. An event without a
// release cannot prove it is newer and does not reopen.
func (s *Service) isNewer(ctx context.Context, tx *sql.Tx, project, release, resolvedIn string) (bool, error) {
	if resolvedIn == "" {
		return true, nil
	}
	if release == "" || release == resolvedIn {
		return false, nil
	}
	var newer bool
	if err := s.queryRow(ctx, tx, stCompareReleases, project, release, resolvedIn).Scan(&newer); err != nil {
		return false, fmt.Errorf("compare releases: %w", err)
	}
	return newer, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
