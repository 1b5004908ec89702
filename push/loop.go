package push

import (
	"context"
	"errors"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Run pushes every Interval until ctx ends; with Interval 0 it returns at
// once. The first cycle runs one Interval after the start, so a daemon
// restarting in a loop does not hammer the remote. After CooldownAfter
// failed cycles in a row it cools down (status "cooling_down"): each tick
// sends one empty body instead of a cycle, and the first answer from the
// receiver ends the cool-down with a cycle at once.
func (c *Client) Run(ctx context.Context) error {
	Every(ctx, c.Interval, c.tick)
	return nil
}

// Every calls f every interval until ctx ends; interval 0 returns at once.
// It is every sink's loop.
func Every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// tick runs one cycle unless a Retry-After holds it back, or a cool-down
// whose probe the receiver does not answer.
func (c *Client) tick(ctx context.Context) {
	if c.held() || (c.cooling() && !c.probe(ctx)) {
		if ctx.Err() == nil {
			c.CyclesSkipped.Add(1)
			c.last.SetStatus(StatusCoolingDown)
		}
		return
	}
	_, err := c.PushOnce(ctx)
	if ctx.Err() != nil {
		return // shutting down: not the remote's failure
	}
	c.afterCycle(err)
}

func (c *Client) held() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Now().Before(c.holdUntil)
}

func (c *Client) cooling() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.CooldownAfter > 0 && c.failedRun >= c.CooldownAfter
}

// probe sends one empty body, once, and reports whether the receiver is
// back: it answered, with anything but a sign of being down (no answer,
// 408, 429, 5xx). An answer that refuses the body still ends the
// cool-down: the cycle will tell what it refuses.
func (c *Client) probe(ctx context.Context) bool {
	var b body
	b.reset(c.AgentID, codec.NewID(), c.Now().UnixMilli())
	raw := b.finish()
	p := &payload{batchID: b.batchID, raw: raw, wire: raw}
	if c.Gzip {
		var gz Gzipper
		wire, err := gz.Compress(raw)
		if err != nil {
			return false
		}
		p.wire = wire
	}
	err := c.attempt(ctx, p)
	var se *StatusError
	if err != nil && (!errors.As(err, &se) || se.Retryable()) {
		c.holdForRetryAfter(retryable(ctx, err))
		return false
	}
	c.Logger.Info("push receiver answers again; cool-down over")
	return true
}

// afterCycle counts failed cycles in a row; CooldownAfter of them start a
// cool-down.
func (c *Client) afterCycle(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.failedRun = 0
		return
	}
	if errors.As(err, new(*StoreError)) {
		return // the cool-down spares the remote; this was not its failure
	}
	c.failedRun++
	if c.CooldownAfter <= 0 || c.failedRun < c.CooldownAfter {
		return
	}
	c.last.SetStatus(StatusCoolingDown)
	if c.failedRun == c.CooldownAfter {
		c.Logger.Warn("push cooling down: one empty body per interval until the receiver answers",
			"failed_cycles", c.failedRun, "interval", c.Interval.String())
	}
}
