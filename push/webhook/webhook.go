// Package webhook posts alerts to one incoming-webhook URL (Slack,
// Discord, Mattermost, or any receiver of JSON): a bounded queue that
// never blocks whoever sends, one goroutine that posts each message with
// push's retries (exponential backoff with full jitter, Retry-After
// honoured), and counters of every outcome. The URL is a secret (Slack's
// are): it is never logged, nor in any error or status.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/push"
)

// Defaults of the Sender's tunables.
const (
	DefaultQueueSize = 64 // alerts are few: a handful per budget and window
	DefaultTimeout   = 10 * time.Second
	DefaultUserAgent = "openclaw-trace"
)

// DefaultRetry keeps trying longer than the push does: an alert has no
// later cycle to go out with. A message given up on is counted, and the
// caller may send it again (the daemon does at its next start).
var DefaultRetry = push.Retry{MaxRetries: 12, MaxElapsed: 30 * time.Minute, InitialInterval: time.Second, MaxInterval: 5 * time.Minute}

// Message is one POST: a JSON body, and what to do once it is delivered.
type Message struct {
	Body []byte
	// Delivered, when set, is called on the Sender's goroutine once the
	// webhook answered 2xx.
	Delivered func()
}

// Stats are the Sender's counters. Every message handed to Send ends in
// exactly one of Sent, GaveUp or Dropped (once the queue is empty).
type Stats struct {
	Queued   atomic.Int64 // messages taken by Send
	Sent     atomic.Int64 // delivered: answered 2xx
	GaveUp   atomic.Int64 // retries exhausted, or refused (4xx other than 408, 429)
	Dropped  atomic.Int64 // not taken (queue full, closed) or not finished at shutdown
	Attempts atomic.Int64 // HTTP attempts, retries included
	Retries  atomic.Int64 // attempts after a message's first
	Failures [push.NumFailureClasses]atomic.Int64
}

// Sender posts messages to one URL. Set the tunables before Open.
type Sender struct {
	HTTPClient *http.Client
	Retry      push.Retry
	QueueSize  int
	UserAgent  string
	Logger     *slog.Logger
	Now        func() time.Time

	Stats

	url string // never logged
	in  chan Message

	mu     sync.Mutex // guards closed and the send on in
	closed bool
	cancel context.CancelFunc
	done   chan struct{}

	statusMu   sync.Mutex
	lastStatus string // "" before the first attempt
	lastOK     int64  // unix ms of the last 2xx
}

// New returns a Sender to url with the default tunables. Redirects are not
// followed: a webhook that answers 3xx is misconfigured, and following it
// would turn the POST into a GET.
func New(url string) *Sender {
	return &Sender{
		HTTPClient: &http.Client{Timeout: DefaultTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		Retry:     DefaultRetry,
		QueueSize: DefaultQueueSize,
		UserAgent: DefaultUserAgent,
		Logger:    slog.New(slog.DiscardHandler),
		Now:       time.Now,
		url:       url,
	}
}

// Open starts the goroutine that posts what Send queues, until Close.
func (s *Sender) Open() {
	s.in = make(chan Message, max(s.QueueSize, 1))
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		for m := range s.in {
			if ctx.Err() != nil {
				s.Dropped.Add(1)
				continue
			}
			s.Deliver(ctx, m)
		}
	}()
}

// Send queues m without blocking; false (and counted as dropped) when
// the queue is full or the Sender is not open.
func (s *Sender) Send(m Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.in == nil {
		s.Dropped.Add(1)
		return false
	}
	select {
	case s.in <- m:
		s.Queued.Add(1)
		return true
	default:
		s.Dropped.Add(1)
		s.Logger.Error("alert webhook queue full: message dropped", "queue_size", cap(s.in))
		return false
	}
}

// Pending is the number of messages waiting in the queue.
func (s *Sender) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.in)
}

// Close posts what is queued within ctx; when ctx ends first, the message
// in flight and those left are counted as dropped.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.in != nil {
			close(s.in)
		}
	}
	s.mu.Unlock()
	if s.done == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	<-s.done
	return ctx.Err()
}

// Deliver posts m until it is answered 2xx, refused, or Retry gives up.
// Its error, like every log line, names neither the URL nor the answer's
// body.
func (s *Sender) Deliver(ctx context.Context, m Message) error {
	notify := func(err error, wait time.Duration) {
		s.Logger.Warn("alert webhook attempt failed, retrying", "err", reason(err), "wait", wait.Round(time.Millisecond))
	}
	err := s.Retry.Do(ctx, func() error { return s.attempt(ctx, m.Body) }, &s.Retries, notify)
	switch {
	case err == nil:
		s.Sent.Add(1)
		if m.Delivered != nil {
			m.Delivered()
		}
	case ctx.Err() != nil:
		s.Dropped.Add(1)
	default:
		s.GaveUp.Add(1)
		s.Logger.Error("alert webhook gave up on a message", "err", reason(err), "attempts", s.Attempts.Load())
	}
	if err != nil {
		return errors.New("alert webhook: " + reason(err))
	}
	return nil
}

func (s *Sender) attempt(ctx context.Context, body []byte) error {
	s.Attempts.Add(1)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", s.UserAgent)
	_, _, err := push.Post(ctx, s.HTTPClient, s.url, h, body, s.Now)
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	if err != nil {
		s.Failures[push.Classify(ctx, err)].Add(1)
		s.lastStatus = "error: " + reason(err)
		return err
	}
	s.lastStatus, s.lastOK = push.StatusOK, s.Now().UnixMilli()
	return nil
}

// reason is what logs and the status say of a failed attempt: the status
// code alone for an answer (a receiver's error page may echo the URL's
// secret path), else the error without the URL.
func reason(err error) string {
	var se *push.StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("http %d", se.Code)
	}
	return push.ShortError(err)
}

// Status returns "pending" before the first attempt, then "ok" or
// "error: <short reason>"; and when a message was last delivered (unix
// ms, 0 before).
func (s *Sender) Status() (string, int64) {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	if s.lastStatus == "" {
		return push.StatusPending, s.lastOK
	}
	return s.lastStatus, s.lastOK
}
