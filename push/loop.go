package push

import (
	"context"
	"errors"
	"time"
)

// Run pushes every Interval until ctx ends; with Interval 0 it returns at
// once. The first cycle runs one Interval after the start, so a daemon
// restarting in a loop does not hammer the remote. After CooldownAfter
// failed cycles in a row it skips cycles until Cooldown has passed (status
// "cooling_down"), then tries one cycle: success ends the cool-down,
// failure starts another.
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

// tick runs one cycle unless a cool-down or a Retry-After holds it back.
func (c *Client) tick(ctx context.Context) {
	if c.paused() {
		c.CyclesSkipped.Add(1)
		c.last.SetStatus(StatusCoolingDown)
		return
	}
	_, err := c.PushOnce(ctx)
	if ctx.Err() != nil {
		return // shutting down: not the remote's failure
	}
	c.afterCycle(err)
}

func (c *Client) paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Now().Before(c.pauseUntil)
}

// afterCycle counts failed cycles in a row and starts a cool-down when
// there are CooldownAfter of them.
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
	c.pauseUntil = c.Now().Add(c.Cooldown)
	c.last.SetStatus(StatusCoolingDown)
	c.Logger.Warn("push cooling down", "failed_cycles", c.failedRun, "until", c.pauseUntil.Format(time.RFC3339))
}
