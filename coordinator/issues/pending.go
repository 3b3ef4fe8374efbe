package issues

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/fingerprint"
)

// pending is what one transaction's events add to their issues: counted
// in memory as the events are grouped and written by Flush, once per issue
// and in issue order, just before the transaction commits. A batch of a
// thousand events of five issues then updates five issue rows, not a
// thousand, which on a server database saves a round trip per event and
// keeps the issue rows locked only for the end of the transaction, taken
// in one order by every coordinator.
type pending struct {
	issues map[issueKey]*issueDelta
	// releases are the projects' releases in the order they first came:
	// project_releases numbers them in that order.
	releases []issueKey         // {project, release}
	relSeen  map[issueKey]int64 // first time each was seen
	// owner is the issue of every hash this transaction has seen or added.
	owner map[hashKey]string
}

type issueKey struct{ project, id string }

type hashKey struct{ project, hash string }

// issueDelta is one issue's share of a transaction.
type issueDelta struct {
	events   []eventAt // in the order they were grouped
	users    []string  // distinct user keys
	userSeen map[string]bool
	hours    map[int64]int64
	releases map[string]*releaseDelta
	relOrder []string // releases in the order they first appeared
	minAt    int64
	// cand is the release the issue's last_release becomes if candAt is
	// not older than the stored last_seen: the last event with a release
	// that was not older than every event before it (what applying the
	// events one by one would leave).
	cand    string
	candAt  int64
	running int64 // newest event time so far
}

type eventAt struct {
	at      int64
	release string
}

type releaseDelta struct {
	count       int64
	first, last int64
}

// pendingFor returns the counts of ctx's transaction.
func (s *Service) pendingFor(ctx context.Context) *pending { return &s.inTx(ctx).pend }

// add counts one new event of issue id.
func (p *pending) add(project, id, release, userKey string, at int64) {
	k := issueKey{project, id}
	d := p.issues[k]
	if d == nil {
		d = &issueDelta{userSeen: map[string]bool{}, hours: map[int64]int64{}, releases: map[string]*releaseDelta{}, minAt: at, running: at}
		p.issues[k] = d
	}
	d.events = append(d.events, eventAt{at, release})
	if !d.userSeen[userKey] {
		d.userSeen[userKey] = true
		d.users = append(d.users, userKey)
	}
	d.hours[at-at%3_600_000]++
	d.minAt = min(d.minAt, at)
	if release != "" {
		if rk := (issueKey{project, release}); !p.hasRelease(rk) {
			p.releases = append(p.releases, rk)
			p.relSeen[rk] = at
		}
		r := d.releases[release]
		if r == nil {
			r = &releaseDelta{first: at, last: at}
			d.releases[release] = r
			d.relOrder = append(d.relOrder, release)
		}
		r.count++
		r.first, r.last = min(r.first, at), max(r.last, at)
		if at >= d.running {
			d.cand, d.candAt = release, at
		}
	}
	d.running = max(d.running, at)
}

// known returns the issue of hashes[0] when the transaction knows the
// issue of every hash.
func (p *pending) known(project string, hashes []fingerprint.Hash) (string, bool) {
	for _, h := range hashes {
		if _, ok := p.owner[hashKey{project, h.Value}]; !ok {
			return "", false
		}
	}
	return p.owner[hashKey{project, hashes[0].Value}], true
}

func (p *pending) hasRelease(k issueKey) bool {
	_, ok := p.relSeen[k]
	return ok
}

// Flush writes what the transaction's events added to their issues: the
// coordinator's flush hook, run once before each commit.
// Each transaction has its own pending state (coordinator.TxLocal), used
// by the one goroutine that runs it, so it needs no lock.
func (s *Service) Flush(ctx context.Context, tx *sql.Tx) error {
	p := s.pendingFor(ctx)
	if len(p.issues) == 0 {
		return nil
	}
	for _, rk := range p.releases {
		if _, err := s.exec(ctx, tx, stProjectRelease, rk.project, rk.id, p.relSeen[rk]); err != nil {
			return fmt.Errorf("project release: %w", err)
		}
	}
	keys := make([]issueKey, 0, len(p.issues))
	for k := range p.issues {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b issueKey) int {
		if c := strings.Compare(a.project, b.project); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, k := range keys {
		if err := s.flushIssue(ctx, tx, k, p.issues[k]); err != nil {
			return err
		}
	}
	return nil
}

// maxUsersPerStatement bounds one multi-row insert of user keys.
const maxUsersPerStatement = 200

func (s *Service) flushIssue(ctx context.Context, tx *sql.Tx, k issueKey, d *issueDelta) error {
	project, id := k.project, k.id
	for _, rel := range d.relOrder {
		r := d.releases[rel]
		if _, err := s.exec(ctx, tx, stIssueRelease, project, id, rel, r.first, r.last, r.count); err != nil {
			return fmt.Errorf("issue release: %w", err)
		}
	}
	var newUsers int64
	for users := range slices.Chunk(d.users, maxUsersPerStatement) {
		args := make([]any, 0, 3*len(users))
		for _, u := range users {
			args = append(args, project, id, u)
		}
		st, err := s.stmtQ(ctx, tx, addUsersQuery(len(users)))
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("issue users: %w", err)
		}
		n, _ := res.RowsAffected()
		newUsers += n
	}
	hours := make([]int64, 0, len(d.hours))
	for h := range d.hours {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	for _, h := range hours {
		if _, err := s.exec(ctx, tx, stHourly, project, id, h, d.hours[h]); err != nil {
			return fmt.Errorf("issue trend: %w", err)
		}
	}
	var status, resolvedIn string
	var resolvedAt sql.NullInt64
	if err := s.queryRow(ctx, tx, stUpdateIssue, project, id, len(d.events), newUsers, d.cand, d.candAt, d.minAt, d.running).Scan(&status, &resolvedIn, &resolvedAt); err != nil {
		return fmt.Errorf("update issue %s: %w", id, err)
	}
	if status != StatusResolved {
		return nil
	}
	// The first event, in the order they came, that reopens the issue
	// decides when it regressed.
	for _, e := range d.events {
		if e.at < resolvedAt.Int64 {
			continue
		}
		newer, err := s.isNewer(ctx, tx, project, e.release, resolvedIn)
		if err != nil {
			return err
		}
		if newer {
			if _, err := s.exec(ctx, tx, stRegress, e.at, project, id); err != nil {
				return fmt.Errorf("reopen issue %s: %w", id, err)
			}
			s.log.Info("issue regressed", "project", project, "issue", id, "release", e.release, "resolved_in", resolvedIn)
			return nil
		}
	}
	return nil
}

func addUsersQuery(n int) string {
	return `INSERT INTO issue_users (project, issue_id, user_key) VALUES (?, ?, ?)` + strings.Repeat(", (?, ?, ?)", n-1) + ` ON CONFLICT DO NOTHING`
}
