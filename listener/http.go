package listener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Defaults for the HTTP intake.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
)

// HTTP is the HTTP intake: POST /v1/traces and /v1/errors, plus whatever
// routes the caller mounts with Handle (health, metrics).
type HTTP struct {
	Addr         string
	MaxBodyBytes int64
	Logger       *slog.Logger
	Counters     codec.Counters

	// Limits (limits.go), set before Open. MaxConns bounds the connections
	// served at once (0: no bound); MaxInflightBytes the request bodies read
	// and decoded at once (0: MaxBodyBytes), waited for up to BodyWait. ConnWaits counts accepts
	// that waited for a connection to close, Busy the requests answered 429
	// because the bodies in flight took their share (also queue_full drops).
	MaxConns         int
	MaxInflightBytes int64
	BodyWait         time.Duration // the longest a request waits for its share
	ConnWaits        atomic.Int64
	Busy             atomic.Int64
	// Doors (doors.go), set before Open: names besides this daemon's own
	// that Host may be ("*": any), and the token every request must carry
	// ("": none). Refused counts the requests they turned away.
	AllowedHosts []string
	Token        string
	Refused      Refusals

	queue      *codec.Queue
	parser     *codec.Parser
	inflight   *budget // made on first use, from the tunables above
	budgetOnce sync.Once
	mux        *http.ServeMux
	srv        *http.Server
	ln         net.Listener
	draining   atomic.Bool
	served     chan error
}

// NewHTTP returns an HTTP intake feeding q.
func NewHTTP(addr string, q *codec.Queue, p *codec.Parser) *HTTP {
	h := &HTTP{
		Addr:         addr,
		MaxBodyBytes: DefaultMaxBodyBytes,
		MaxConns:     DefaultMaxConns,
		BodyWait:     DefaultBodyWait,
		Logger:       slog.New(slog.DiscardHandler),
		queue:        q,
		parser:       p,
		mux:          http.NewServeMux(),
	}
	h.mux.HandleFunc("POST /v1/traces", h.ingest(codec.TypeTrace))
	h.mux.HandleFunc("POST /v1/errors", h.ingest(codec.TypeError))
	h.mux.HandleFunc("POST /v1/logs", h.ingest(codec.TypeLog))
	return h
}

// Handle mounts another route on the same server.
func (h *HTTP) Handle(pattern string, handler http.Handler) { h.mux.Handle(pattern, handler) }

// Handler is the whole route table, for tests that use httptest; Open
// serves it behind the doors (doors.go).
func (h *HTTP) Handler() http.Handler { return h.mux }

// Open listens on Addr and serves in the background.
func (h *HTTP) Open() error {
	ln, err := net.Listen("tcp", h.Addr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", h.Addr, err)
	}
	if h.MaxConns > 0 {
		ln = newLimitListener(ln, h.MaxConns, &h.ConnWaits)
	}
	h.ln = ln
	h.srv = &http.Server{
		Handler:           h.guard(h.mux),
		ErrorLog:          slog.NewLogLogger(h.Logger.Handler(), slog.LevelWarn), // JSON, like every other line
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	h.served = make(chan error, 1)
	go func() {
		h.served <- h.srv.Serve(ln)
		close(h.served) // a second Close receives nil instead of waiting forever
	}()
	return nil
}

// ListenAddr is the bound address (useful with port 0).
func (h *HTTP) ListenAddr() string { return h.ln.Addr().String() }

// Drain makes the ingest routes answer 503 from now on; health and metrics
// still answer while the rest of the shutdown runs.
func (h *HTTP) Drain() { h.draining.Store(true) }

// Close stops accepting connections and waits for in-flight requests, up
// to ctx's deadline. It may be called more than once.
func (h *HTTP) Close(ctx context.Context) error {
	if h.srv == nil {
		return nil
	}
	h.Drain()
	err := h.srv.Shutdown(ctx)
	if serr := <-h.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

type accepted struct {
	Accepted int      `json:"accepted"`
	TraceIDs []string `json:"trace_ids"`
	// UnknownFields names the top-level fields no field of the type reads
	// (kept in metadata), so a misspelt field is seen at once.
	UnknownFields []string `json:"unknown_fields,omitempty"`
}

type problem struct {
	Error string `json:"error"`
	Index *int   `json:"index,omitempty"`
	Field string `json:"field,omitempty"`
}

func (h *HTTP) ingest(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &h.Counters
		c.Units.Add(1)
		if h.draining.Load() {
			c.Drop(codec.DropShutdown, 1)
			WriteJSON(w, http.StatusServiceUnavailable, problem{Error: "shutting down"})
			return
		}
		format, ok := contentFormat(r.Header.Get("Content-Type"))
		if !ok {
			c.Drop(codec.DropDecodeError, 1)
			WriteJSON(w, http.StatusUnsupportedMediaType, problem{
				Error: "Content-Type must be application/json or application/msgpack", Field: "Content-Type"})
			return
		}
		weight := h.bodyWeight(r)
		if !h.acquireBody(r, weight) {
			h.Busy.Add(1)
			c.Drop(codec.DropQueueFull, 1)
			w.Header().Set("Retry-After", "1")
			WriteJSON(w, http.StatusTooManyRequests, problem{Error: "too many request bodies in flight, retry later"})
			return
		}
		defer h.bodies().release(weight)
		body, err := readBody(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes), r.ContentLength)
		c.Bytes.Add(int64(len(body)))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.Drop(codec.DropOversize, 1)
				WriteJSON(w, http.StatusRequestEntityTooLarge, problem{
					Error: fmt.Sprintf("body larger than %d bytes", h.MaxBodyBytes)})
				return
			}
			c.Drop(codec.DropDecodeError, 1)
			WriteJSON(w, http.StatusBadRequest, problem{Error: "read body: " + err.Error()})
			return
		}
		h.accept(w, typ, format, body)
	}
}

// accept hands the body to codec, then offers it whole: a batch is all
// or nothing, for 400 as for 429.
func (h *HTTP) accept(w http.ResponseWriter, typ string, format codec.Format, body []byte) {
	c := &h.Counters
	batch, err := h.parser.Request(body, format, typ)
	if errors.Is(err, codec.ErrEmptyBatch) {
		WriteJSON(w, http.StatusBadRequest, problem{Error: "empty batch"})
		c.Drop(codec.DropInvalid, 1)
		return
	}
	if err != nil {
		c.Drop(codec.DropDecodeError, 1)
		WriteJSON(w, http.StatusBadRequest, problem{Error: "decode " + format.String() + " body: " + err.Error()})
		return
	}
	if n, room := batch.Elements, h.queue.Cap(); n > room { // it could never fit: 429 would be forever
		c.Drop(codec.DropOversize, int64(n))
		WriteJSON(w, http.StatusRequestEntityTooLarge, problem{Error: fmt.Sprintf(
			"batch of %d events is larger than the ingest queue (%d events, OCT_QUEUE_SIZE): send at most %d per request", n, room, room)})
		return
	}
	if len(batch.Refused) > 0 {
		r := batch.Refused[0]
		c.Drop(codec.DropInvalid, int64(batch.Elements))
		WriteJSON(w, http.StatusBadRequest, problem{Error: r.Err.Error(), Index: &r.Index, Field: r.Err.Field})
		return
	}
	if err := c.Offer(h.queue, batch.Events...); err != nil {
		if err == codec.ErrQueueClosed {
			WriteJSON(w, http.StatusServiceUnavailable, problem{Error: "shutting down"})
			return
		}
		msg := "ingest queue full (OCT_QUEUE_SIZE events), retry later"
		if errors.Is(err, codec.ErrQueueBytes) {
			msg = "ingest queue full (OCT_QUEUE_MAX_BYTES bytes of events), retry later"
		}
		w.Header().Set("Retry-After", "1")
		WriteJSON(w, http.StatusTooManyRequests, problem{Error: msg})
		return
	}
	ids := make([]string, len(batch.Events))
	var unknown []string
	for i := range batch.Events {
		ids[i] = batch.Events[i].TraceID
		unknown = appendUnknown(unknown, &batch.Events[i])
	}
	WriteJSON(w, http.StatusAccepted, accepted{Accepted: len(ids), TraceIDs: ids, UnknownFields: unknown})
}

func contentFormat(ct string) (codec.Format, bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, false
	}
	switch mt {
	case "application/json":
		return codec.JSON, true
	case "application/msgpack", "application/x-msgpack", "application/vnd.msgpack":
		return codec.Msgpack, true
	}
	return 0, false
}

// WriteJSON answers status with v as JSON; also for the routes others mount.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
