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
	"syscall"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Set by the release build: -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit status: 0 ok, 1 runtime failure, 2 bad usage or
// configuration.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr, reportEnv{lookup: envconfig.OsLookuper(), now: time.Now})
	}
	fs := flag.NewFlagSet("openclaw-trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print version and commit")
	pushOnce := fs.Bool("push-once", false, "push everything unsynced, then exit")
	fs.Usage = func() {} // --help is answered below; other errors get a hint
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			PrintHelp(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "see openclaw-trace --help")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openclaw-trace: unexpected argument %q (configuration is read from OCT_* variables; see --help)\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "openclaw-trace %s (commit %s)\n", version, commit)
		return 0
	}
	cfg, err := LoadConfig(context.Background(), envconfig.OsLookuper())
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-trace: invalid configuration: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *pushOnce {
		return PushOnce(ctx, cfg, logger)
	}
	m := NewMain(cfg, logger)
	if err := m.Run(ctx); err != nil {
		logger.Error("start failed", "err", err)
		m.Close()
		return 1
	}
	<-ctx.Done()
	stop() // a second signal kills the process the default way
	logger.Info("signal received, shutting down", "timeout", cfg.ShutdownTimeout.String())
	if err := m.Close(); err != nil {
		logger.Error("shutdown incomplete", "err", err)
		return 1
	}
	return 0
}
