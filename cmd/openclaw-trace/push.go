package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/store"
)

// newPushClient builds the push client from the configuration.
func newPushClient(cfg *Config, db *store.DB, logger *slog.Logger) *push.Client {
	c := push.NewClient(cfg.PushEndpoint, db)
	c.Token = cfg.PushToken
	c.AgentID = cfg.AgentID
	c.Interval = cfg.PushInterval
	c.MaxBytes = cfg.PushMaxBytes
	c.Gzip = cfg.PushGzip
	c.Logger = logger.With("component", "push")
	return c
}

// newPush builds the push client when an endpoint is configured. It runs
// before the HTTP listener opens: /health reads m.Push from the server's
// goroutines, so m.Push is never written once they may run.
func (m *Main) newPush() {
	cfg := m.Config
	if cfg.PushEndpoint == "" {
		m.Logger.Warn("push disabled: OCT_PUSH_ENDPOINT is empty; rows stay local until retention deletes them")
		return
	}
	m.Push = newPushClient(cfg, m.DB, m.Logger)
	m.Logger.Info("push enabled", "endpoint", redactURL(cfg.PushEndpoint),
		"interval", cfg.PushInterval.String(), "gzip", cfg.PushGzip)
}

// pushStatus is what /health says about push.
func (m *Main) pushStatus() (*int64, string) {
	if m.Push == nil {
		return nil, "disabled"
	}
	var at *int64
	if t := m.Push.LastPushTime(); t > 0 {
		at = &t
	}
	return at, m.Push.LastPushStatus()
}

// PushOnce is the --push-once operator command: push everything unsynced
// and exit 0 only if nothing stayed behind.
func PushOnce(ctx context.Context, cfg *Config, logger *slog.Logger) int {
	if cfg.PushEndpoint == "" {
		logger.Error("--push-once needs OCT_PUSH_ENDPOINT")
		return 2
	}
	db := store.NewDB(cfg.DBPath)
	if err := db.Open(); err != nil {
		logger.Error("open database", "path", cfg.DBPath, "err", err)
		return 1
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	c := newPushClient(cfg, db, logger)
	remaining, err := c.PushAll(ctx)
	logger.Info("push-once finished", "rows", c.RowsPushed.Load(), "bodies", c.BodiesOK.Load(),
		"set_aside", c.Rejected.Total(), "remaining", remaining, "status", c.LastPushStatus())
	if err != nil || remaining > 0 {
		if err != nil {
			logger.Error("push-once failed", "err", err)
		}
		return 1
	}
	return 0
}

// redactURL keeps scheme, host and path: credentials or query tokens in
// the URL must not reach the log.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return fmt.Sprintf("%s://%s%s", u.Scheme, u.Host, u.Path)
}
