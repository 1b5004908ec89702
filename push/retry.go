package push

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Retry is the retry policy every sink shares: exponential waits from
// InitialInterval, doubling up to MaxInterval, with full jitter; at most
// MaxRetries retries and MaxElapsed in all. A Retry-After replaces the
// computed wait.
type Retry struct {
	MaxRetries      int
	MaxElapsed      time.Duration
	InitialInterval time.Duration
	MaxInterval     time.Duration
}

// DefaultRetry is the policy sinks start with.
var DefaultRetry = Retry{
	MaxRetries:      DefaultMaxRetries,
	MaxElapsed:      DefaultMaxElapsed,
	InitialInterval: DefaultInitialInterval,
	MaxInterval:     DefaultMaxInterval,
}

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

func (p Retry) backOff() backoff.BackOff {
	return &fullJitter{exp: backoff.ExponentialBackOff{
		InitialInterval: p.InitialInterval,
		Multiplier:      2,
		MaxInterval:     p.MaxInterval,
	}}
}

// Do runs attempt until it succeeds, fails for good (another attempt
// cannot succeed: see retryable), or p gives up. retries is incremented
// before every attempt after the first; notify is told of every wait. It
// returns at once when ctx ends, also in the middle of a wait.
func (p Retry) Do(ctx context.Context, attempt func() error, retries *atomic.Int64,
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
		backoff.WithMaxTries(uint(max(p.MaxRetries, 0)+1)),
		backoff.WithMaxElapsedTime(p.MaxElapsed),
		backoff.WithNotify(notify))
	return err
}

// retryAfterError carries a retryable StatusError and the wait its
// Retry-After asked for; backoff.Retry finds the latter with errors.As and
// waits that long instead, while callers still find the StatusError.
type retryAfterError struct {
	status *StatusError
	after  *backoff.RetryAfterError
}

func (e *retryAfterError) Error() string   { return e.status.Error() }
func (e *retryAfterError) Unwrap() []error { return []error{e.status, e.after} }

// RetryAfter returns the wait a Retry-After asked for in the answer that
// ended Do, when its retries could not honour it: the sink holds back for
// as long, at most max, rather than ask again every cycle.
func RetryAfter(err error, max time.Duration) (time.Duration, bool) {
	var ra *backoff.RetryAfterError
	if !errors.As(err, &ra) {
		return 0, false
	}
	return min(ra.Duration, max), true
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

// Bookkeeping bounds the local writes made after a receiver answered
// (marks, positions, push_log); they run even when ctx has ended, because
// skipping them would lose the record or send rows twice.
const Bookkeeping = 5 * time.Second

// Bookkeep runs write, a local write that follows a receiver's answer,
// with a context that outlives ctx by at most Bookkeeping.
func Bookkeep(ctx context.Context, write func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Bookkeeping)
	defer cancel()
	return write(ctx)
}
