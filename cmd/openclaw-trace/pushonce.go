package main

import (
	"context"
	"fmt"
	"log/slog"
)

// PushOnce is the --push-once operator command.
func PushOnce(ctx context.Context, cfg *Config, logger *slog.Logger) int {
	if cfg.PushEndpoint == "" {
		fmt.Println("openclaw-trace: --push-once needs OCT_PUSH_ENDPOINT")
		return 2
	}
	logger.Error("push is not built yet")
	return 1
}
