package push

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// fullJitter waits a uniform random time in [0, d) where d grows
// exponentially. backoff.ExponentialBackOff only spreads d by ±
// RandomizationFactor, so many agents failing together would still retry
// in step; full jitter spreads them over the whole interval.
type fullJitter struct {
	exp backoff.ExponentialBackOff // RandomizationFactor 0: returns d itself
}

func (j *fullJitter) NextBackOff() time.Duration {
	d := j.exp.NextBackOff()
	if d <= 0 {
		return d
	}
	return rand.N(d)
}

func (j *fullJitter) Reset() { j.exp.Reset() }

// retryPolicy is the retry tunables every sink shares: exponential waits
// from initial, doubling up to maxInterval, with full jitter; at most
// maxRetries retries and maxElapsed in all.
type retryPolicy struct {
	maxRetries  int
	maxElapsed  time.Duration
	initial     time.Duration
	maxInterval time.Duration
}

func (p retryPolicy) backOff() backoff.BackOff {
	return &fullJitter{exp: backoff.ExponentialBackOff{
		InitialInterval: p.initial,
		Multiplier:      2,
		MaxInterval:     p.maxInterval,
	}}
}

// do runs attempt until it succeeds, fails for good (another attempt
// cannot succeed: see retryable), or p gives up. retries is incremented
// before every attempt after the first; notify is told of every wait. It
// returns at once when ctx ends, also in the middle of a wait.
func (p retryPolicy) do(ctx context.Context, attempt func() error, retries *atomic.Int64,
	notify func(err error, wait time.Duration)) error {
	tries := 0
	op := func() (struct{}, error) {
		if tries++; tries > 1 {
			retries.Add(1)
		}
		return struct{}{}, retryable(ctx, attempt())
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(p.backOff()),
		backoff.WithMaxTries(uint(max(p.maxRetries, 0)+1)),
		backoff.WithMaxElapsedTime(p.maxElapsed),
		backoff.WithNotify(notify))
	return err
}

func (c *Client) retryPolicy() retryPolicy {
	return retryPolicy{c.MaxRetries, c.MaxElapsed, c.InitialInterval, c.MaxInterval}
}

func (c *Client) newBackOff() backoff.BackOff { return c.retryPolicy().backOff() }

// retryAfterError carries a retryable StatusError and the wait its
// Retry-After asked for; backoff.Retry finds the latter with errors.As and
// waits that long instead, while callers still find the StatusError.
type retryAfterError struct {
	status *StatusError
	after  *backoff.RetryAfterError
}

func (e *retryAfterError) Error() string   { return e.status.Error() }
func (e *retryAfterError) Unwrap() []error { return []error{e.status, e.after} }

// send posts p, retrying as the Client's retry tunables say. It returns at
// once when ctx ends, also in the middle of a wait.
func (c *Client) send(ctx context.Context, p *payload) error {
	notify := func(err error, wait time.Duration) {
		c.Logger.Warn("push attempt failed, retrying", "batch_id", p.batchID,
			"err", shortError(err), "wait", wait.Round(time.Millisecond))
	}
	return c.retryPolicy().do(ctx, func() error { return c.attempt(ctx, p) }, &c.Retries, notify)
}

// retryable prepares an attempt's error for backoff.Retry: permanent
// unless another attempt may succeed.
func retryable(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return backoff.Permanent(err)
	}
	var se *StatusError
	if !errors.As(err, &se) {
		return err // no answer: the network, the remote's proxy, a timeout
	}
	if !se.Retryable() {
		return backoff.Permanent(err)
	}
	if se.RetryAfter > 0 {
		return &retryAfterError{status: se, after: &backoff.RetryAfterError{Duration: se.RetryAfter}}
	}
	return err
}

// attempt posts p once and records the attempt in the counters and in
// push_log.
func (c *Client) attempt(ctx context.Context, p *payload) error {
	start := c.Now()
	began := time.Now() // the duration is real time even with a test clock
	c.Attempts.Add(1)
	c.BytesSent.Add(int64(len(p.raw)))
	c.WireBytesSent.Add(int64(len(p.wire)))
	code, err := c.post(ctx, p)
	a := Attempt{At: start.UnixMilli(), BatchID: p.batchID, Status: "ok", HTTPStatus: code,
		Bytes: int64(len(p.raw)), DurationMS: time.Since(began).Milliseconds()}
	if err == nil {
		a.Rows = p.rows
	} else {
		a.Status, a.Error = "error", shortError(err)
		c.Failures[classify(ctx, err)].Add(1)
	}
	c.logAttempt(ctx, a)
	return err
}

// bookkeeping bounds the local writes made after the remote answered;
// they run even when ctx has ended, because skipping them would lose the
// record (push_log) or send rows twice (marks).
const bookkeeping = 5 * time.Second

func (c *Client) logAttempt(ctx context.Context, a Attempt) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
	defer cancel()
	if err := c.src.LogPush(ctx, a); err != nil {
		c.Logger.Warn("push_log row not written", "batch_id", a.BatchID, "err", err)
	}
}
