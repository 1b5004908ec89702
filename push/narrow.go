package push

import (
	"context"
	"errors"
	"fmt"
)

// ErrRefusedAll says the receiver refuses a body without rows too: its
// refusal is not about the rows, so none is set aside.
var ErrRefusedAll = errors.New("the receiver refuses a body without rows too")

// Narrow handles rows the receiver refused as one body (why: see
// StatusError.Refused), so that one bad row never blocks the others. It
// first sends a body without rows (deliver with none): if that is refused
// too, the refusal is not about the rows, and Narrow returns an error
// wrapping ErrRefusedAll and why, having touched nothing. Otherwise it
// sends each half of rows again (deliver), halves a refused half again,
// and hands each row refused on its own to setAside with its answer:
// everything the receiver takes is delivered, only what it refuses alone
// is set aside. A body of n rows costs at most 2n-1 more requests, about
// 2k·log2(n/k) for k refused rows. Any other failure (no answer, 5xx
// after the retries, the store) stops it with that error; the parts
// delivered or set aside so far stay so.
func Narrow[R any](ctx context.Context, rows []R, why *StatusError,
	deliver func(ctx context.Context, rows []R) error,
	setAside func(ctx context.Context, row R, why *StatusError) error) error {
	if err := deliver(ctx, nil); err != nil {
		if refusal(err) != nil {
			return fmt.Errorf("%w: %w", ErrRefusedAll, why)
		}
		return err
	}
	return split(ctx, rows, why, deliver, setAside)
}

func split[R any](ctx context.Context, rows []R, why *StatusError,
	deliver func(context.Context, []R) error, setAside func(context.Context, R, *StatusError) error) error {
	switch len(rows) {
	case 0:
		return nil
	case 1:
		return setAside(ctx, rows[0], why)
	}
	half := len(rows) / 2
	for _, part := range [][]R{rows[:half], rows[half:]} {
		err := deliver(ctx, part)
		if se := refusal(err); se != nil {
			err = split(ctx, part, se, deliver, setAside)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
