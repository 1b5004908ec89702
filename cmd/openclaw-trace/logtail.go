package main

import (
	"context"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/logtail"
)

// startLogtail follows the gateway log when OCT_LOG_PATH is set; otherwise
// no goroutine is started.
func (m *Main) startLogtail(ctx context.Context) error {
	cfg := m.Config
	if cfg.LogPath == "" {
		return nil
	}
	level, err := logtail.ParseLevel(cfg.LogMinLevel.String())
	if err != nil {
		return fmt.Errorf("OCT_LOG_MIN_LEVEL: %w", err)
	}
	f := logtail.NewFollower(cfg.LogPath, m.Queue)
	f.MinLevel = level
	f.MaxMessageBytes = cfg.MaxTextBytes
	f.Positions = m.DB
	f.Logger = m.Logger.With("component", "logtail")
	m.Follower = f
	m.account(codec.Logtail, &f.Counters)
	m.wg.Go(func() {
		if err := f.Run(ctx); err != nil {
			m.Logger.Error("log follower stopped", "err", err)
		}
	})
	m.Logger.Info("following gateway log", "path", cfg.LogPath, "min_level", level.String(),
		"poll_interval", f.PollInterval.String())
	return nil
}
