package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

type report struct {
	load          *Load
	size          int
	res           result
	before, after map[string]any
	settled       bool
	stored        int64
	storedKnown   bool
	httpRejected  int64
	httpLatency   []time.Duration // p50, p90, p99, max of answered requests
	peakRSS       int64
	metricsRSS    int64
}

// delta is after - before of one counter, so a daemon can serve several
// runs without a restart.
func (r *report) delta(path ...string) int64 {
	return num(lookup(r.after, path...)) - num(lookup(r.before, path...))
}

// print writes what the sending side saw.
func (res result) print(w io.Writer) {
	fmt.Fprintf(w, "sent            %d in %.2fs (%.0f/s achieved)\n", res.sent, res.elapsed.Seconds(), float64(res.sent)/res.elapsed.Seconds())
	fmt.Fprintf(w, "sender drops    %d (EAGAIN / outbox full)\n", res.dropped)
	fmt.Fprintf(w, "sender pacing   largest burst %d events, longest gap between ticks %s\n", res.maxBurst, res.maxGap.Round(time.Microsecond))
}

func (r *report) print(w io.Writer) {
	l, res := r.load, r.res
	fmt.Fprintf(w, "transport %s, encoding %s, %d-byte events, rate %d/s for %s\n", l.Transport, l.Encoding, r.size, l.Rate, l.Duration)
	res.print(w)
	if l.Transport == "http" {
		fmt.Fprintf(w, "http rejected   %d (non-202 or error)\n", r.httpRejected)
		if len(r.httpLatency) == 4 {
			fmt.Fprintf(w, "http latency    p50 %v  p90 %v  p99 %v  max %v\n",
				r.httpLatency[0], r.httpLatency[1], r.httpLatency[2], r.httpLatency[3])
		}
	}
	tp := []string{"counters", "transports", l.Transport}
	fmt.Fprintf(w, "daemon units    %d, received %d, written %d\n",
		r.delta(append(tp, "units")...), r.delta(append(tp, "received")...), r.delta(append(tp, "written")...))
	var dropped int64
	if drops, ok := lookup(r.after, append(tp, "dropped")...).(map[string]any); ok {
		reasons := make([]string, 0, len(drops))
		for k := range drops {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		for _, k := range reasons {
			if n := r.delta(append(tp, "dropped", k)...); n != 0 {
				fmt.Fprintf(w, "daemon dropped  %-12s %d\n", k, n)
				dropped += n
			}
		}
	}
	if l.Transport == "udp" {
		fmt.Fprintf(w, "kernel drops    %d (UDP receive buffer full)\n", r.delta("counters", "kernel_drops"))
	}
	if r.storedKnown {
		fmt.Fprintf(w, "stored rows     %d (%s in %s)\n", r.stored, codec.LLMTraces.Name, l.DB)
	}
	if !r.settled {
		fmt.Fprintln(w, "WARNING         counters did not settle within -settle; numbers may be incomplete")
	}
	written := r.delta(append(tp, "written")...)
	lost := res.sent - written
	fmt.Fprintf(w, "lost            %d of %d (%.3f%%): sender %d, daemon %d, kernel %d\n", lost, res.sent,
		100*float64(lost)/float64(max(res.sent, 1)), res.dropped, dropped, r.delta("counters", "kernel_drops"))
	fmt.Fprintf(w, "stored rate     %.0f/s over the send time\n", float64(written)/res.elapsed.Seconds())
	if r.peakRSS > 0 {
		fmt.Fprintf(w, "daemon RSS      peak %.1f MiB during the run (/proc/%d/status)\n", float64(r.peakRSS)/(1<<20), l.PID)
	}
	if r.metricsRSS > 0 {
		fmt.Fprintf(w, "daemon RSS      %.1f MiB after (/metrics)\n", float64(r.metricsRSS)/(1<<20))
	}
}
