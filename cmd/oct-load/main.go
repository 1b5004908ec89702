// Command oct-load sends LLM traces to openclaw-trace at a fixed rate for a
// fixed time, the way a fire-and-forget client does (a send that would
// block is counted and dropped, never retried), then waits for the
// daemon's counters to settle and prints what was sent, stored and dropped.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// Load is one run: its flags, and the numbers it prints.
type Load struct {
	Transport string
	Encoding  string
	Rate      int
	Duration  time.Duration
	Size      int
	Burst     time.Duration
	SndBuf    int
	Socket    string
	UDPAddr   string
	URL       string
	DB        string
	PID       int
	Settle    time.Duration
}

func main() {
	l, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := l.Run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "oct-load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (*Load, error) {
	l := &Load{}
	fs := flag.NewFlagSet("oct-load", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&l.Transport, "transport", "unixgram", "unixgram, udp or http")
	fs.StringVar(&l.Encoding, "encoding", "msgpack", "json or msgpack; statsd loads a statsd server (statsd_exporter, its /metrics at -url)\n"+
		"with DogStatsD packets of -size bytes instead, to compare datagram intakes")
	fs.IntVar(&l.Rate, "rate", 5000, "events per second")
	fs.DurationVar(&l.Duration, "duration", 10*time.Second, "how long to send")
	fs.IntVar(&l.Size, "size", 1024, "approximate encoded size of one trace, bytes")
	fs.DurationVar(&l.Burst, "burst", time.Millisecond, "pacing tick: each tick sends what the rate owes so far")
	fs.IntVar(&l.SndBuf, "sndbuf", 0, "SO_SNDBUF of the sending datagram socket, bytes; 0 keeps the kernel default (net.core.wmem_default),\n"+
		"which on a unix socket also caps the datagrams in flight: each is charged to the sender until the daemon reads it")
	fs.StringVar(&l.Socket, "socket", "/run/openclaw-trace.sock", "unix datagram socket (OCT_SOCKET_PATH)")
	fs.StringVar(&l.UDPAddr, "udp", "127.0.0.1:9090", "UDP address (OCT_UDP_ADDR)")
	fs.StringVar(&l.URL, "url", "http://127.0.0.1:9090", "daemon base URL, for HTTP sends and /health, /metrics")
	fs.StringVar(&l.DB, "db", "", "SQLite file to count stored rows in, read-only (optional)")
	fs.IntVar(&l.PID, "pid", 0, "daemon pid, to sample its RSS from /proc during the run (optional)")
	fs.DurationVar(&l.Settle, "settle", 30*time.Second, "how long to wait for the daemon's counters to settle")
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: oct-load [flags]\n\nSends 1 KB-ish trace events at -rate for -duration, then reports sent,\n"+
			"sender-side drops, stored rows, drops by reason, achieved rate and daemon RSS.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if l.Rate <= 0 || l.Duration <= 0 || l.Burst <= 0 {
		fmt.Fprintln(out, "oct-load: -rate, -duration and -burst must be positive")
		return nil, fmt.Errorf("bad flags")
	}
	return l, nil
}
