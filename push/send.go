package push

import (
	"context"
	"net/http"
	"time"
)

// payload is a finished body as sent: uncompressed (counted against the
// cap) and on the wire.
type payload struct {
	batchID string
	raw     []byte
	wire    []byte
	rows    int
}

// post sends p once and returns the HTTP status (0 without an answer).
func (c *Client) post(ctx context.Context, p *payload) (int, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", c.UserAgent)
	if c.Gzip {
		h.Set("Content-Encoding", "gzip")
	}
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	code, _, err := Post(ctx, c.HTTPClient, c.Endpoint, h, p.wire, c.Now)
	return code, err
}

// send posts p, retrying as c.Retry says. It returns at once when ctx
// ends, also in the middle of a wait.
func (c *Client) send(ctx context.Context, p *payload) error {
	notify := func(err error, wait time.Duration) {
		c.Logger.Warn("push attempt failed, retrying", "batch_id", p.batchID,
			"err", ShortError(err), "wait", wait.Round(time.Millisecond))
	}
	return c.Retry.Do(ctx, func() error { return c.attempt(ctx, p) }, &c.Retries, notify)
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
		a.Status, a.Error = "error", ShortError(err)
		c.Failures[Classify(ctx, err)].Add(1)
	}
	c.logAttempt(ctx, a)
	return err
}

func (c *Client) logAttempt(ctx context.Context, a Attempt) {
	err := Bookkeep(ctx, func(ctx context.Context) error { return c.src.LogPush(ctx, a) })
	if err != nil {
		c.Logger.Warn("push_log row not written", "batch_id", a.BatchID, "err", err)
	}
}
