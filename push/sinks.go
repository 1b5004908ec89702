package push

import (
	"context"
	"log/slog"
	"sync"
)

// Sink is one destination of the stored rows (the push Client, the OTLP
// exporter) as the daemon runs it: a loop until ctx ends, then one last
// cycle at shutdown.
type Sink interface {
	// Run delivers every interval until ctx ends.
	Run(ctx context.Context) error
	// Flush runs one cycle now, bounded by ctx, and says how many rows it
	// delivered.
	Flush(ctx context.Context) (rows int64, err error)
}

// Sinks runs the loops of several sinks and, at Close, stops them and
// flushes each once: one start and one final-flush path for every sink.
// Add them before Start.
type Sinks struct {
	Logger *slog.Logger

	names  []string
	sinks  []Sink
	cancel context.CancelFunc // nil until Start
	wg     sync.WaitGroup
}

// Add appends a sink, named for the logs.
func (s *Sinks) Add(name string, k Sink) {
	s.names = append(s.names, name)
	s.sinks = append(s.sinks, k)
}

// Start runs each sink's loop until Close or the end of ctx.
func (s *Sinks) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	for _, k := range s.sinks {
		s.wg.Go(func() { k.Run(ctx) })
	}
}

// Close stops the loops (a cycle in flight is aborted: its rows stay
// stored) and, once they have returned, flushes each sink in turn within
// ctx. Without Start it does nothing: nothing ran that needs a last cycle.
func (s *Sinks) Close(ctx context.Context) {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for i, k := range s.sinks {
		rows, err := k.Flush(ctx)
		if err != nil {
			logger.Warn("final flush incomplete; rows stay stored for the next start", "sink", s.names[i], "rows", rows, "err", err)
			continue
		}
		logger.Info("final flush done", "sink", s.names[i], "rows", rows)
	}
}

// Flush runs one PushOnce: the Client as a Sink.
func (c *Client) Flush(ctx context.Context) (int64, error) {
	res, err := c.PushOnce(ctx)
	return res.Rows, err
}
