package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/view"
)

const reportUsage = `Usage: openclaw-trace report [--since 24h] [--json] [--db PATH]

Summarises the calls in the database over the last --since (e.g. 30m, 24h, 7d):
calls, errors and error rate, tokens, cost (unpriced calls are counted, never
shown as $0), latency p50/p95/p99 and ttft p50, in total and per model, provider,
agent, channel and UTC day; then the recent errors, the running daemon's drop
counters (from GET /health on OCT_BIND:OCT_PORT) and the push backlog.
The database is opened read-only, so it is safe while the daemon runs.

  --since D   window length (default 24h)
  --json      print the summary as JSON (the document GET /v1/summary serves)
  --db PATH   database file (default OCT_DB_PATH)
`

// reportEnv is what report needs besides its flags; tests set it.
type reportEnv struct {
	lookup envconfig.Lookuper
	now    func() time.Time
}

// runReport is `openclaw-trace report`: exit 0, 1 when the database cannot
// be read, 2 on bad usage.
func runReport(args []string, stdout, stderr io.Writer, env reportEnv) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	since := fs.String("since", "24h", "")
	asJSON := fs.Bool("json", false, "")
	dbPath := fs.String("db", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, reportUsage)
			return 0
		}
		fmt.Fprintf(stderr, "openclaw-trace report: %v\n%s", err, reportUsage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openclaw-trace report: unexpected argument %q\n%s", fs.Arg(0), reportUsage)
		return 2
	}
	if _, err := parseSince(*since); err != nil {
		fmt.Fprintf(stderr, "openclaw-trace report: --since: %v\n", err)
		return 2
	}
	cfg, err := LoadConfig(context.Background(), env.lookup)
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace: invalid configuration: %v\n", err)
		return 2
	}
	if *dbPath == "" {
		*dbPath = cfg.DBPath
	}
	db, err := store.OpenReadOnly(*dbPath)
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace report: %v (set OCT_DB_PATH or --db)\n", err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	doc, err := summarize(ctx, view.New(db.Reader()), *since, env.now(), 0)
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace report: %v\n", err)
		return 1
	}
	doc.Daemon = fetchStatus(ctx, daemonAddr(cfg))
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(stderr, "openclaw-trace report: %v\n", err)
			return 1
		}
		return 0
	}
	writeReport(stdout, doc)
	return 0
}
