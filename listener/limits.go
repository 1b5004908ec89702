package listener

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Bounds on what the HTTP intake holds at once. Unbounded, 10,000 idle
// connections that never finished their bodies took 147 MB, ~20,000 ran
// the process out of file descriptors (419 MB peak), and eight clients
// posting 777 KB bodies took 196 MB: a decoded JSON body is ~2.6 times its
// size live and allocates ~10 times its size on the way.
const (
	// DefaultMaxConns bounds the connections served at once; more wait in
	// the kernel's accept queue until one closes.
	DefaultMaxConns = 256
	// DefaultBodyWait bounds the wait of a request for its share of the
	// in-flight body bytes before it is answered 429.
	DefaultBodyWait = 2 * time.Second
)

// limitListener accepts at most n connections at once: Accept waits for a
// slot before it takes the next connection off the kernel's queue
// (golang.org/x/net/netutil's LimitListener, counted).
type limitListener struct {
	net.Listener
	slots     chan struct{}
	waits     *atomic.Int64
	closeOnce sync.Once
	done      chan struct{}
}

func newLimitListener(l net.Listener, n int, waits *atomic.Int64) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), waits: waits, done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.waits.Add(1)
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// budget is a weighted semaphore of bytes: the request bodies being read
// and decoded at once.
type budget struct {
	mu    sync.Mutex
	total int64
	used  int64
	freed chan struct{} // closed, and replaced, whenever bytes are released
}

func newBudget(total int64) *budget {
	return &budget{total: total, freed: make(chan struct{})}
}

// acquire takes n bytes (at most the total), waiting until they are free
// or ctx is done; it reports whether it took them.
func (b *budget) acquire(ctx context.Context, n int64) bool {
	n = min(n, b.total)
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			return true
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return false
		}
	}
}

func (b *budget) release(n int64) {
	n = min(n, b.total)
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// bodyWeight is what a request's body may take: its declared length, or
// the body cap when it declares none (chunked) or more.
func (h *HTTP) bodyWeight(r *http.Request) int64 {
	if r.ContentLength > 0 && r.ContentLength <= h.MaxBodyBytes {
		return r.ContentLength
	}
	return h.MaxBodyBytes
}

// readBody reads the body into a buffer of its declared length, so a
// large body is not copied over and over as it grows.
func readBody(r io.Reader, declared int64) ([]byte, error) {
	if declared <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, declared+1) // +1: the EOF read needs no growth
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // longer than declared: grow as ReadAll would
		}
	}
}

// acquireBody waits for weight bytes of the in-flight budget, at most
// BodyWait or until the client goes, and reports whether it got them.
func (h *HTTP) acquireBody(r *http.Request, weight int64) bool {
	ctx, cancel := context.WithTimeout(r.Context(), h.BodyWait)
	defer cancel()
	return h.bodies().acquire(ctx, weight)
}

// bodies is the in-flight budget: MaxInflightBytes, or one body cap (one
// large body decoded at a time, many small ones side by side). Measured
// with 8 clients posting 839 KB traces of 50,000 metadata keys for 20 s:
// twice the cap peaked at 46-47 MB RSS, once the cap at 33-43 MB with more
// bodies accepted (less garbage collected at once).
func (h *HTTP) bodies() *budget {
	h.budgetOnce.Do(func() {
		total := h.MaxInflightBytes
		if total <= 0 {
			total = h.MaxBodyBytes
		}
		h.inflight = newBudget(max(total, h.MaxBodyBytes))
	})
	return h.inflight
}

// maxUnknownNamed bounds the names one answer lists.
const maxUnknownNamed = 20

// appendUnknown adds ev's unknown field names to names, once each, sorted.
func appendUnknown(names []string, ev *codec.Event) []string {
	var add []string
	switch {
	case ev.Trace != nil:
		add = ev.Trace.Unknown
	case ev.Error != nil:
		add = ev.Error.Unknown
	case ev.Log != nil:
		add = ev.Log.Unknown
	}
	for _, n := range add {
		if i, found := slices.BinarySearch(names, n); !found && len(names) < maxUnknownNamed {
			names = slices.Insert(names, i, n)
		}
	}
	return names
}
