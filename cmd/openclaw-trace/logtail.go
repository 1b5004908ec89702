package main

import (
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/logtail"
)

// openLogtail follows the gateway log when OCT_LOG_PATH is set; otherwise
// the follower stays off.
func (m *Main) openLogtail() error {
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
	f.Open()
	m.Logger.Info("following gateway log", "path", cfg.LogPath, "min_level", level.String(),
		"poll_interval", f.PollInterval.String())
	return nil
}
