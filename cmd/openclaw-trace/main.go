// Command openclaw-trace is the sidecar daemon. main is a shim over Main so
// that tests start the whole program on port 0 with a temp database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/openclaw/openclaw-trace/store"
)

// Set by the release build: -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses (README, Configuration). A failure before the daemon runs
// is one plain line on stderr; the JSON log on stdout goes on as usual.
const (
	exitOK      = 0
	exitFailure = 1 // start-up failed at run time, or the shutdown did not finish
	exitUsage   = 2 // bad command line or configuration: nothing was opened
)

// run returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr, reportEnv{lookup: envconfig.OsLookuper(), now: time.Now})
	}
	fs := flag.NewFlagSet("openclaw-trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error is said below, on one line
	showVersion := fs.Bool("version", false, "print version and commit")
	pushOnce := fs.Bool("push-once", false, "push everything unsynced, then exit")
	fs.Usage = func() {} // --help is answered below; other errors get a hint
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			PrintHelp(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "openclaw-trace: %v (see openclaw-trace --help)\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openclaw-trace: unexpected argument %q (configuration is read from OCT_* variables; see --help)\n", fs.Arg(0))
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "openclaw-trace %s (commit %s)\n", version, commit)
		return exitOK
	}
	cfg, err := LoadConfig(context.Background(), envconfig.OsLookuper())
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace: invalid configuration: %s\n", plainLine(err))
		return exitUsage
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	applyMemoryLimit(os.Getenv)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *pushOnce {
		return PushOnce(ctx, cfg, logger)
	}
	m := NewMain(cfg, logger)
	if err := m.Run(ctx); err != nil {
		logger.Error("start failed", "err", err)
		m.Close()
		// last, so that it is the line left on the operator's screen
		fmt.Fprintf(stderr, "openclaw-trace: cannot start: %s\n", startFailure(err))
		return exitFailure
	}
	<-ctx.Done()
	stop() // a second signal kills the process the default way
	logger.Info("signal received, shutting down", "timeout", cfg.ShutdownTimeout.String())
	if err := m.Close(); err != nil {
		logger.Error("shutdown incomplete", "err", err)
		return exitFailure
	}
	return exitOK
}

// startFailure is what the operator reads about a failed start. A database
// another process holds gets its own remedy, not the generic one Run adds.
func startFailure(err error) string {
	var locked *store.LockedError
	if errors.As(err, &locked) {
		return plainLine(locked) + "; stop that process or set OCT_DB_PATH to another file"
	}
	return plainLine(err)
}

// plainLine keeps a message on one line (errors.Join separates with newlines).
func plainLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
