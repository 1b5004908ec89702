package webhook

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

var fastRetry = push.Retry{MaxRetries: 5, MaxElapsed: 10 * time.Second, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}

// receiver answers each POST with the next of answers (then 200): a
// status, or 0 to drop the connection without an answer.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers []int
	bodies  []string // bodies answered 2xx
	posts   int
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.posts++
		code := http.StatusOK
		if len(r.answers) > 0 {
			code, r.answers = r.answers[0], r.answers[1:]
		}
		if code == http.StatusOK {
			r.bodies = append(r.bodies, string(body))
		}
		r.mu.Unlock()
		if code == 0 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() (posts int, bodies []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.posts, append([]string{}, r.bodies...)
}

func newSender(t *testing.T, url string) (*Sender, *bytes.Buffer) {
	s := New(url)
	s.Retry = fastRetry
	var logs bytes.Buffer
	s.Logger = slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))
	return s, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// A receiver that is down (no answer, then 503) and then up gets the
// message exactly once; every attempt and failure is counted.
func TestDownThenUp(t *testing.T) {
	rcv := newReceiver(t, 0, http.StatusServiceUnavailable, http.StatusBadGateway)
	s, _ := newSender(t, rcv.URL+"/hooks/T000/B000/SECRET")
	var delivered atomic.Int64
	s.Open()
	if !s.Send(Message{Body: []byte(`{"text":"budget all/day is over"}`), Delivered: func() { delivered.Add(1) }}) {
		t.Fatal("Send refused")
	}
	poll.Until(t, "delivery", 10*time.Second, func() bool { return s.Sent.Load() == 1 })
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts, bodies := rcv.got()
	if posts != 4 || len(bodies) != 1 || bodies[0] != `{"text":"budget all/day is over"}` || delivered.Load() != 1 {
		t.Errorf("receiver: %d posts, bodies %q; delivered %d: want 4 posts, the body once, delivered once", posts, bodies, delivered.Load())
	}
	got := [6]int64{s.Queued.Load(), s.Attempts.Load(), s.Retries.Load(), s.Failures[push.FailNetwork].Load(),
		s.Failures[push.FailHTTP5xx].Load(), s.GaveUp.Load() + s.Dropped.Load()}
	if want := [6]int64{1, 4, 3, 1, 2, 0}; got != want {
		t.Errorf("queued, attempts, retries, network, 5xx, lost = %v, want %v", got, want)
	}
	if st, at := s.Status(); st != push.StatusOK || at == 0 {
		t.Errorf("status %q at %d", st, at)
	}
}

// A 4xx other than 408 and 429 will not succeed later: one attempt, given
// up, counted.
func TestRefusedIsGivenUp(t *testing.T) {
	rcv := newReceiver(t, http.StatusBadRequest)
	s, logs := newSender(t, rcv.URL)
	s.Open()
	s.Send(Message{Body: []byte(`{"text":"x"}`), Delivered: func() { t.Error("delivered") }})
	s.Close(context.Background())
	if s.GaveUp.Load() != 1 || s.Attempts.Load() != 1 || s.Failures[push.FailHTTP4xx].Load() != 1 {
		t.Errorf("gave up %d, attempts %d, 4xx %d", s.GaveUp.Load(), s.Attempts.Load(), s.Failures[push.FailHTTP4xx].Load())
	}
	if st, _ := s.Status(); st != "error: http 400" {
		t.Errorf("status %q", st)
	}
	if !strings.Contains(logs.String(), "gave up") {
		t.Errorf("no log line:\n%s", logs)
	}
}

// Send never waits for the receiver: with a receiver that hangs, what
// the queue cannot hold is dropped and counted; Close at the deadline
// counts the rest; every message ends in exactly one counter.
func TestNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := newSender(t, srv.URL)
	s.QueueSize = 2
	s.Open()
	start := time.Now()
	sent := 0
	for range 10 {
		if s.Send(Message{Body: []byte(`{}`)}) {
			sent++
		}
		if sent == 1 {
			poll.Until(t, "first in flight", 10*time.Second, func() bool { return s.Attempts.Load() == 1 })
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("10 sends took %v", d)
	}
	if sent != 3 || s.Dropped.Load() != 7 {
		t.Errorf("taken %d, dropped %d: want 3 (one in flight, two queued) and 7", sent, s.Dropped.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err == nil {
		t.Error("Close met its deadline with a hung receiver")
	}
	if total := s.Sent.Load() + s.GaveUp.Load() + s.Dropped.Load(); total != 10 || s.Dropped.Load() != 10 {
		t.Errorf("sent %d, gave up %d, dropped %d: want all 10 dropped", s.Sent.Load(), s.GaveUp.Load(), s.Dropped.Load())
	}
	if s.Send(Message{}) {
		t.Error("Send after Close took a message")
	}
}

// The URL is a secret: no log line, status or error holds it, whatever
// the failure (refused connection, redirect, server error).
func TestURLNeverShown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/services/T0/B0/SECRETTOKEN?key=SECRETKEY"
	l.Close()
	redirect := httptest.NewServer(http.RedirectHandler("http://example.invalid/SECRETTOKEN", http.StatusFound))
	defer redirect.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Cannot POST "+r.URL.String(), http.StatusNotFound) // a receiver's page that echoes the path
	}))
	defer echo.Close()
	for _, url := range []string{closed, redirect.URL + "/SECRETTOKEN?key=SECRETKEY", echo.URL + "/SECRETTOKEN?key=SECRETKEY"} {
		s, logs := newSender(t, url)
		s.Retry = push.Retry{MaxRetries: 1, MaxElapsed: time.Second, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}
		s.Open()
		s.Send(Message{Body: []byte(`{}`)})
		s.Close(context.Background())
		st, _ := s.Status()
		err := s.Deliver(context.Background(), Message{Body: []byte(`{}`)})
		all := logs.String() + st + err.Error()
		if s.GaveUp.Load() != 2 || strings.Contains(all, "SECRET") {
			t.Errorf("gave up %d; the secret shows:\n%s", s.GaveUp.Load(), all)
		}
	}
}
