package otlp

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/reap"
	"github.com/openclaw/openclaw-trace/testkit/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

// *store.DB is the Source cmd wires in; the daemon runs the Exporter as
// a push.Sink.
var (
	_ Source    = (*store.DB)(nil)
	_ push.Sink = (*Exporter)(nil)
)

const testToken = "s3cret-token-never-logged"

func mustOpenDB(tb testing.TB) *store.DB { return storetest.OpenDB(tb) }

func writeEvents(tb testing.TB, db *store.DB, evs ...codec.Event) {
	tb.Helper()
	storetest.WriteEvents(tb, db, evs...)
}

func ptr[T any](v T) *T { return &v }

func traces(n int, text string) []codec.Event {
	evs := make([]codec.Event, n)
	for i := range evs {
		evs[i] = codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP, Trace: &codec.Trace{
			CreatedAt: 1700000000000, Provider: "openai", Model: "gpt-4o", InputText: ptr(text),
			PromptTokens: ptr[int64](10), CompletionTokens: ptr[int64](5), TotalTokens: ptr[int64](15),
			CostUSD: ptr(0.25), Status: "ok", Metadata: map[string]any{"k": "v"},
		}}
	}
	return evs
}

// newTestExporter is an Exporter of db to rc: fast retries, a secret
// header.
func newTestExporter(t *testing.T, db *store.DB, rc *otlptest.Receiver) *Exporter {
	e := NewExporter(db)
	e.TracesURL, e.LogsURL, e.MetricsURL = rc.URL+"/v1/traces", rc.URL+"/v1/logs", rc.URL+"/v1/metrics"
	e.Headers = map[string]string{"Authorization": "Basic " + testToken}
	e.Resource = map[string]string{"service.name": "gw", "service.instance.id": "agent-1"}
	e.Retry.InitialInterval, e.Retry.MaxInterval, e.Retry.MaxRetries = time.Millisecond, 5*time.Millisecond, 3
	return e
}

func position(t *testing.T, db *store.DB, stream, table string) int64 {
	t.Helper()
	p, err := db.Position(context.Background(), stream, table)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func countRows(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Reader().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// clock is a settable Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
