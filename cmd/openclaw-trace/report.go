package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/view"
)

const reportUsage = `Usage: openclaw-trace report [--since 24h] [--by DIMS [--top N]] [--json] [--wide]
                             [--db PATH] [--url URL]

Summarises the calls in the database over the last --since (e.g. 30m, 24h,
7d, 30d): calls, errors (failed calls) and error rate, tokens, cost (unpriced
calls are counted, never shown as $0), latency, the idle burn (what calls no
user started cost), then tables by model, provider, agent, channel, trigger,
cron job, session and day, the failed calls and error events, the daemon's
drop counters and the push backlog. Days past OCT_RETENTION_DAYS are read
from daily rollups. The database is opened read-only, so it is safe while the
daemon runs.

  --since D   window length (default 24h)
  --by DIMS   one table grouped by any of agent, channel, trigger, model,
              session, cron, day, hour, comma-separated (--by agent,trigger)
  --top N     with --by: the N most expensive groups (the N latest with day
              or hour), the rest added up in one row (default 20; 0: all)
  --json      print the document GET /v1/summary (with --by: GET
              /v1/breakdown) serves
  --wide      every column and whole names; by default lines fit 100 columns
  --db PATH   database file (default OCT_DB_PATH)
  --url URL   the daemon serving it, for its drop counters (default
              http://OCT_BIND:OCT_PORT); they are shown only if it serves
              the database read
`

// reportEnv is what report needs besides its flags; tests set it.
type reportEnv struct {
	lookup envconfig.Lookuper
	now    func() time.Time
}

// reportFlags are report's command line.
type reportFlags struct {
	since, by, dbPath, url string
	top                    int
	asJSON, wide           bool
	dims                   []view.Dim
}

// parseReportFlags reads args; a non-empty string is what to print with
// exit 2 (or 0 for --help).
func parseReportFlags(args []string, stdout io.Writer) (*reportFlags, int, string) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &reportFlags{}
	fs.StringVar(&f.since, "since", "24h", "")
	fs.StringVar(&f.by, "by", "", "")
	fs.IntVar(&f.top, "top", 20, "")
	fs.BoolVar(&f.asJSON, "json", false, "")
	fs.BoolVar(&f.wide, "wide", false, "")
	fs.StringVar(&f.dbPath, "db", "", "")
	fs.StringVar(&f.url, "url", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, reportUsage)
			return nil, 0, ""
		}
		return nil, 2, fmt.Sprintf("openclaw-trace report: %v\n%s", err, reportUsage)
	}
	if fs.NArg() > 0 {
		return nil, 2, fmt.Sprintf("openclaw-trace report: unexpected argument %q\n%s", fs.Arg(0), reportUsage)
	}
	if _, err := parseSince(f.since); err != nil {
		return nil, 2, fmt.Sprintf("openclaw-trace report: --since: %v\n", err)
	}
	if f.by != "" {
		dims, err := view.ParseDims(f.by)
		if err != nil {
			return nil, 2, fmt.Sprintf("openclaw-trace report: --by: %v\n", err)
		}
		f.dims = dims
	}
	if f.top < 0 {
		return nil, 2, "openclaw-trace report: --top: want 0 (all) or more\n"
	}
	if f.url != "" && !strings.Contains(f.url, "://") {
		f.url = "http://" + f.url
	}
	return f, -1, ""
}

// runReport is `openclaw-trace report`: exit 0, 1 when the database cannot
// be read, 2 on bad usage.
func runReport(args []string, stdout, stderr io.Writer, env reportEnv) int {
	f, code, msg := parseReportFlags(args, stdout)
	if f == nil {
		fmt.Fprint(stderr, msg)
		return code
	}
	cfg, err := LoadConfig(context.Background(), env.lookup)
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace: invalid configuration: %v\n", err)
		return 2
	}
	if f.dbPath == "" {
		f.dbPath = cfg.DBPath
	}
	if f.url == "" {
		f.url = daemonURL(cfg)
	}
	db, err := store.OpenReadOnly(f.dbPath)
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace report: %v (set OCT_DB_PATH or --db)\n", err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	v := view.New(db.Reader())
	var doc any
	if f.dims != nil {
		bd, err := breakdown(ctx, v, f.since, env.now(), f.dims, f.top)
		if err != nil {
			fmt.Fprintf(stderr, "openclaw-trace report: %v\n", err)
			return 1
		}
		doc = bd
		if !f.asJSON {
			writeBreakdown(stdout, bd, f.wide)
		}
	} else {
		sd, err := summarize(ctx, v, f.since, env.now(), 0)
		if err != nil {
			fmt.Fprintf(stderr, "openclaw-trace report: %v\n", err)
			return 1
		}
		sd.Daemon = fetchStatus(ctx, f.url, f.dbPath)
		sd.Budgets = reportBudgets(ctx, cfg, db, f.url, sd.Daemon, env.now())
		doc = sd
		if !f.asJSON {
			writeReport(stdout, sd, f.wide)
		}
	}
	if f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(stderr, "openclaw-trace report: %v\n", err)
			return 1
		}
	}
	return 0
}
