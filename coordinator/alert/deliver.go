package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
)

// deliverBatch bounds the webhook calls of one evaluation, which holds the
// evaluation lock: a backlog drains over several minutes instead of
// stalling rule checks.
const deliverBatch = 50

// maxBackoffShift caps the exponential backoff at 32× RetryBackoff.
const maxBackoffShift = 5

type pendingDelivery struct {
	id, firedAt     int64
	ruleID, project string
	kind            Kind
	key, message    string
	value, baseline float64
	attempts        int
}

// deliver sends every notification whose next attempt is due at now and
// records the outcome: delivered, retry at now + backoff, or given up after
// MaxAttempts.
func (a *Alerts) deliver(ctx context.Context, now int64) error {
	rows, err := a.db.QueryContext(ctx, `SELECT h.id, h.rule_id, h.project, h.kind, h.key, h.fired_at, h.value, h.baseline, h.message, d.attempts
FROM alert_deliveries d JOIN alert_history h ON h.id = d.history_id
WHERE d.next_at IS NOT NULL AND d.next_at <= ? ORDER BY d.next_at, d.history_id LIMIT ?`, now, deliverBatch)
	if err != nil {
		return fmt.Errorf("due alert deliveries: %w", err)
	}
	var due []pendingDelivery
	for rows.Next() {
		var p pendingDelivery
		if err := rows.Scan(&p.id, &p.ruleID, &p.project, &p.kind, &p.key, &p.firedAt, &p.value, &p.baseline, &p.message, &p.attempts); err != nil {
			rows.Close()
			return fmt.Errorf("due alert deliveries: %w", err)
		}
		due = append(due, p)
	}
	// Read everything before sending: the sends below must not hold a
	// read transaction open while writing delivery state.
	if err := rows.Close(); err != nil {
		return fmt.Errorf("due alert deliveries: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("due alert deliveries: %w", err)
	}

	var errs []error
	// A webhook that failed once in this pass is not called again in it:
	// a dead receiver costs one timeout per evaluation, not one per
	// pending notification. The skipped ones spend no attempt but wait one
	// backoff, so that they do not fill every batch ahead of other
	// receivers' deliveries.
	down := map[string]bool{}
	for _, p := range due {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		r, err := a.rule(ctx, p.ruleID)
		if errors.Is(err, ErrNotFound) || (err == nil && r.Project != p.project) {
			errs = append(errs, a.settle(ctx, p, p.attempts, now, false, fmt.Sprintf("gave up: rule %s no longer exists", p.ruleID)))
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hook := a.webhookOf(r)
		if hook == "" {
			errs = append(errs, a.settle(ctx, p, p.attempts, now, false, "gave up: no webhook configured"))
			continue
		}
		if down[hook] {
			if _, err := a.db.ExecContext(ctx, `UPDATE alert_deliveries SET next_at = ? WHERE history_id = ?`, now+a.backoff(1), p.id); err != nil {
				errs = append(errs, fmt.Errorf("postpone delivery of alert %d: %w", p.id, err))
			}
			continue
		}
		r.Kind = p.kind // the kind it fired as, should the rule have changed since
		f := Firing{Rule: r, Key: p.key, Value: p.value, Baseline: p.baseline, Message: p.message}
		sendErr := a.send(ctx, hook, payloadOf(f, p.id, p.firedAt))
		if sendErr != nil && ctx.Err() != nil {
			// Shutting down is not the receiver's fault: spend no attempt.
			return errors.Join(append(errs, ctx.Err())...)
		}
		attempts := p.attempts + 1
		if sendErr == nil {
			if p.attempts > 0 {
				a.log.Info("alert delivered on retry", "rule", p.ruleID, "key", p.key, "attempt", attempts)
			}
			errs = append(errs, a.settle(ctx, p, attempts, now, true, ""))
			continue
		}
		down[hook] = true
		if attempts >= a.opts.MaxAttempts {
			a.log.Warn("alert webhook: giving up", "rule", p.ruleID, "key", p.key, "attempts", attempts, "err", sendErr)
			errs = append(errs, a.settle(ctx, p, attempts, now, false, fmt.Sprintf("gave up after %d attempts: %v", attempts, sendErr)))
			continue
		}
		next := now + a.backoff(attempts)
		a.log.Warn("alert webhook: will retry", "rule", p.ruleID, "key", p.key, "attempt", attempts, "next_at", next, "err", sendErr)
		errs = append(errs, a.settleRetry(ctx, p, attempts, now, next, fmt.Sprintf("attempt %d of %d: %v", attempts, a.opts.MaxAttempts, sendErr)))
	}
	return errors.Join(errs...)
}

// backoff is the wait after the failed-th failed attempt.
func (a *Alerts) backoff(failed int) int64 {
	return a.opts.RetryBackoff.Milliseconds() << min(failed-1, maxBackoffShift)
}

// settle records a final outcome: delivered, or given up with msg.
func (a *Alerts) settle(ctx context.Context, p pendingDelivery, attempts int, now int64, delivered bool, msg string) error {
	return a.recordDelivery(ctx, p, attempts, now, sql.NullInt64{}, delivered, msg)
}

// settleRetry records a failed attempt and when to try again.
func (a *Alerts) settleRetry(ctx context.Context, p pendingDelivery, attempts int, now, next int64, msg string) error {
	return a.recordDelivery(ctx, p, attempts, now, sql.NullInt64{Int64: next, Valid: true}, false, msg)
}

func (a *Alerts) recordDelivery(ctx context.Context, p pendingDelivery, attempts int, now int64, next sql.NullInt64, delivered bool, msg string) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record delivery of alert %d: %w", p.id, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE alert_history SET delivered = ?, error = ? WHERE id = ?`, delivered, msg, p.id); err != nil {
		return fmt.Errorf("record delivery of alert %d: %w", p.id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET attempts = ?, last_at = ?, next_at = ? WHERE history_id = ?`, attempts, now, next, p.id); err != nil {
		return fmt.Errorf("record delivery of alert %d: %w", p.id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record delivery of alert %d: %w", p.id, err)
	}
	return nil
}

// redactURL drops the URL from a client error: webhook URLs are secrets
// (Slack's carry the token), and the error is shown in the alert history.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
