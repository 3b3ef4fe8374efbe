package issues

import (
	"math/rand/v2"
	"testing"
)

// A transaction's events, counted together, leave the issue's release and
// times as applying them one by one (the statement's old semantics) would.
func TestPendingMatchesOneByOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	releases := []string{"", "r1", "r2", "r3"}
	for i := range 5000 {
		n := 1 + rng.IntN(8)
		type ev struct {
			at  int64
			rel string
		}
		evs := make([]ev, n)
		for j := range evs {
			evs[j] = ev{int64(rng.IntN(10)), releases[rng.IntN(len(releases))]}
		}
		storedSeen, storedRel := int64(rng.IntN(10)), "r0"
		storedFirst := storedSeen - int64(rng.IntN(3))

		// One by one, as an issue update per event would apply them.
		seen, rel, first := storedSeen, storedRel, storedFirst
		for _, e := range evs {
			if e.rel != "" && e.at >= seen {
				rel = e.rel
			}
			first, seen = min(first, e.at), max(seen, e.at)
		}

		var p pending
		p.issues, p.owner, p.relSeen = map[issueKey]*issueDelta{}, map[hashKey]string{}, map[issueKey]int64{}
		for _, e := range evs {
			p.add("shop", "i", e.rel, "u", e.at)
		}
		d := p.issues[issueKey{"shop", "i"}]
		gotRel := storedRel
		if d.cand != "" && d.candAt >= storedSeen {
			gotRel = d.cand
		}
		gotFirst, gotSeen := min(storedFirst, d.minAt), max(storedSeen, d.running)
		if gotRel != rel || gotFirst != first || gotSeen != seen || len(d.events) != n {
			t.Fatalf("case %d %+v from (%d, %s): got release %s first %d last %d, one by one %s %d %d", i, evs, storedSeen, storedRel, gotRel, gotFirst, gotSeen, rel, first, seen)
		}
	}
}
