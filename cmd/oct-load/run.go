package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// result is what the sending side saw.
type result struct {
	sent, dropped int64
	elapsed       time.Duration
	// maxBurst is the most events one tick sent back to back, and maxGap
	// the longest time between ticks: a sender that was itself descheduled
	// catches up in a burst that can overrun a small kernel queue alone.
	maxBurst int64
	maxGap   time.Duration
}

// Run sends for l.Duration, waits for the daemon to settle and reports.
func (l *Load) Run(ctx context.Context, out io.Writer) error {
	if l.Encoding == "statsd" {
		return l.runStatsd(ctx, out)
	}
	b, err := encode(l.Encoding, trace(l.Size))
	if err != nil {
		return err
	}
	before, err := fetchHealth(ctx, l.URL)
	if err != nil {
		return err
	}
	rowsBefore, _ := countRows(ctx, l.DB)
	s, res, rss, err := l.send(ctx, b)
	if err != nil {
		return err
	}
	after, settled := settle(ctx, l.URL, l.Transport, l.Settle)
	peak := rss.stop()
	rowsAfter, rowsErr := countRows(ctx, l.DB)
	r := report{load: l, size: len(b), res: res, before: before, after: after, settled: settled, peakRSS: peak}
	if hs, ok := s.(*httpSender); ok {
		r.httpRejected = hs.rejected.Load()
		r.httpLatency = hs.percentiles(0.50, 0.90, 0.99, 1)
	}
	if l.DB != "" && rowsErr == nil {
		r.stored = rowsAfter - rowsBefore
		r.storedKnown = true
	} else if rowsErr != nil && l.DB != "" {
		fmt.Fprintln(out, "count rows:", rowsErr)
	}
	r.metricsRSS, _ = fetchRSS(ctx, l.URL)
	r.print(out)
	return nil
}

// send paces b to the target for l.Duration while sampling the target's
// RSS; the sampler is left running for the caller to stop, unless the
// send failed.
func (l *Load) send(ctx context.Context, b []byte) (sender, result, *rssSampler, error) {
	s, err := newSender(l)
	if err != nil {
		return nil, result{}, nil, err
	}
	rss := startRSS(l.PID)
	res, err := pace(ctx, s, b, l.Rate, l.Burst, l.Duration)
	if cerr := s.close(); err == nil {
		err = cerr
	}
	if err != nil {
		rss.stop()
		return nil, res, nil, err
	}
	return s, res, rss, nil
}

// pace sends b at rate per second for d: each tick sends what the rate
// owes so far, so a late tick catches up in one burst and the average
// holds, without one goroutine per event.
func pace(ctx context.Context, s sender, b []byte, rate int, tick, d time.Duration) (result, error) {
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	var res result
	total := int64(float64(rate) * d.Seconds())
	last := start
	for res.sent < total {
		select {
		case <-ctx.Done():
			res.elapsed = time.Since(start)
			return res, ctx.Err()
		case <-t.C:
		}
		now := time.Now()
		res.maxGap, last = max(res.maxGap, now.Sub(last)), now
		owed := min(int64(float64(rate)*now.Sub(start).Seconds()), total)
		res.maxBurst = max(res.maxBurst, owed-res.sent)
		for ; res.sent < owed; res.sent++ {
			if err := s.send(b); errors.Is(err, errDropped) {
				res.dropped++
			} else if err != nil {
				return res, fmt.Errorf("send: %w", err)
			}
		}
	}
	res.elapsed = time.Since(start)
	return res, nil
}

// runStatsd loads a statsd server (statsd_exporter) the same way, to
// compare its datagram intake with the daemon's: same pacing, same
// non-blocking sends, datagrams of the same size. Such a server has no
// /health, so the report is what the sender saw plus the server's own
// packet counter from <url>/metrics.
func (l *Load) runStatsd(ctx context.Context, out io.Writer) error {
	if l.Transport == "http" {
		return errors.New("-encoding statsd needs -transport unixgram or udp")
	}
	b := statsdPacket(l.Size)
	counter := "statsd_exporter_" + l.Transport + "_packets_total"
	before, _ := fetchCounter(ctx, l.URL, counter)
	_, res, rss, err := l.send(ctx, b)
	if err != nil {
		return err
	}
	peak := rss.stop()
	fmt.Fprintf(out, "transport %s, encoding statsd (%d-byte packets of %d lines), rate %d/s for %s\n",
		l.Transport, len(b), bytes.Count(b, []byte("\n"))+1, l.Rate, l.Duration)
	res.print(out)
	if after, err := fetchCounter(ctx, l.URL, counter); err == nil {
		fmt.Fprintf(out, "server packets  %d (%s)\n", after-before, counter)
	} else {
		fmt.Fprintln(out, "server packets  unknown:", err)
	}
	if peak > 0 {
		fmt.Fprintf(out, "server RSS      peak %.1f MiB during the run\n", float64(peak)/(1<<20))
	}
	return nil
}
