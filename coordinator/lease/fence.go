package lease

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSuperseded is returned by Fence when a later holding of the lease has
// already written to the database: this holding's work must not.
var ErrSuperseded = errors.New("lease holding superseded")

// holding identifies one holding of a lease: the bucket's epoch (its
// creation time, so a re-created bucket's holdings come after an old
// one's) and the revision of the write that acquired the key. Revisions
// are sequence numbers of the bucket's stream, so a later holding's
// acquisition always has a larger one than any write of an earlier holding.
type holding struct {
	name  string
	epoch int64
	token uint64
}

type holdingKey struct{}

// Fence guards a transaction of lease work against a holder that runs on
// after losing its lease (a process paused past its deadline by SIGSTOP or
// a frozen VM, which cancels its work only once it runs again). Call it
// first in the transaction, with the work's context: it records this
// holding in the lease_fences table and fails with ErrSuperseded when a
// later holding has recorded itself there already. The row lock it takes
// serialises the transactions of two holdings, so the earlier one either
// commits before the later one starts or is refused. Outside lease work
// (a context that Run did not give) it does nothing.
func Fence(ctx context.Context, tx *sql.Tx) error {
	h, ok := ctx.Value(holdingKey{}).(holding)
	if !ok {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO lease_fences (name, epoch, token) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch, token = excluded.token
WHERE (lease_fences.epoch, lease_fences.token) <= (excluded.epoch, excluded.token)`, h.name, h.epoch, int64(h.token))
	if err != nil {
		return fmt.Errorf("fence lease %s: %w", h.name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("fence lease %s: %w", h.name, err)
	}
	if n == 0 {
		return fmt.Errorf("fence lease %s at revision %d: %w", h.name, h.token, ErrSuperseded)
	}
	return nil
}
