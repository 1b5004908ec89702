package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

func ptr[T any](v T) *T { return &v }

func traceEvent(model string) codec.Event {
	return codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP, Trace: &codec.Trace{
		CreatedAt: 1700000000000, Provider: "openai", Model: model, InputText: ptr("hi"),
		PromptTokens: ptr[int64](10), CompletionTokens: ptr[int64](5), TotalTokens: ptr[int64](15),
		CostUSD: ptr(0.25), Status: "ok", Metadata: map[string]any{"k": "v"},
	}}
}

func errorEvent() codec.Event {
	return codec.Event{TraceID: codec.NewTraceID(), Transport: codec.UDP, Error: &codec.Error{
		CreatedAt: 1700000000001, ErrorType: "crash", Message: "boom", Code: ptr("oom"), Severity: "critical",
	}}
}

// startWriter runs w until the test closes in; it returns a wait function.
func startWriter(t *testing.T, w *Writer) func() {
	done := make(chan error, 1)
	go func() { done <- w.Run() }()
	return func() {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestWriterCommitsBySize(t *testing.T) {
	db := MustOpenDB(t)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	w.BatchSize, w.BatchWindow = 3, time.Hour // only the size can end a batch
	wait := startWriter(t, w)
	for i := 0; i < 3; i++ {
		in <- traceEvent("m")
	}
	poll.Until(t, "3 rows written", 10*time.Second, func() bool { return w.Counters[codec.HTTP].Written.Load() == 3 })
	if got := w.Batches.Load(); got != 1 {
		t.Errorf("batches = %d, want 1", got)
	}
	close(in)
	wait()
}

func TestWriterCommitsByWindow(t *testing.T) {
	db := MustOpenDB(t)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	w.BatchSize, w.BatchWindow = 1000, 20*time.Millisecond
	wait := startWriter(t, w)
	in <- traceEvent("m")
	in <- errorEvent()
	poll.Until(t, "window commit", 10*time.Second, func() bool { return w.Batches.Load() == 1 })
	if got := w.Counters[codec.HTTP].Written.Load() + w.Counters[codec.UDP].Written.Load(); got != 2 {
		t.Errorf("written = %d, want 2", got)
	}
	close(in)
	wait()
}

func TestWriterStoresFields(t *testing.T) {
	db := MustOpenDB(t)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	tr, er := traceEvent("gpt-4o"), errorEvent()
	in <- tr
	in <- er
	close(in)
	if err := w.Run(); err != nil {
		t.Fatal(err)
	}
	var model, status, md string
	var total int64
	var cost float64
	err := db.Reader().QueryRow(`SELECT model, status, total_tokens, cost_usd, metadata FROM llm_traces WHERE trace_id = ?`,
		tr.TraceID).Scan(&model, &status, &total, &cost, &md)
	if err != nil {
		t.Fatal(err)
	}
	if model != "gpt-4o" || status != "ok" || total != 15 || cost != 0.25 || md != `{"k":"v"}` {
		t.Errorf("trace row = %q %q %d %v %q", model, status, total, cost, md)
	}
	var code, sev string
	if err := db.Reader().QueryRow(`SELECT code, severity FROM error_events WHERE trace_id = ?`, er.TraceID).
		Scan(&code, &sev); err != nil {
		t.Fatal(err)
	}
	if code != "oom" || sev != "critical" {
		t.Errorf("error row = %q %q", code, sev)
	}
}

// A row SQLite refuses must not take the rest of its batch with it, must be
// counted, and must not stop the writer.
func TestWriterWriteError(t *testing.T) {
	db := MustOpenDB(t)
	if _, err := db.write.Exec(`CREATE TRIGGER poison BEFORE INSERT ON llm_traces
		WHEN NEW.model = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`); err != nil {
		t.Fatal(err)
	}
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	w.BatchSize = 3
	wait := startWriter(t, w)
	in <- traceEvent("good1")
	in <- traceEvent("poison")
	in <- traceEvent("good2")
	poll.Until(t, "batch handled", 10*time.Second, func() bool {
		return w.Counters[codec.HTTP].Written.Load()+w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load() == 3
	})
	if got := w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load(); got != 1 {
		t.Errorf("write errors = %d, want 1", got)
	}
	in <- traceEvent("after") // the writer keeps running
	close(in)
	wait()
	var models []string
	rows, err := db.Reader().Query(`SELECT model FROM llm_traces ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		rows.Scan(&m)
		models = append(models, m)
	}
	if got := strings.Join(models, ","); got != "good1,good2,after" {
		t.Errorf("rows = %s", got)
	}
}

func TestWriterSavesLogCursorWithRow(t *testing.T) {
	db := MustOpenDB(t)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	for i, off := range []int64{100, 250} {
		in <- codec.Event{TraceID: codec.NewTraceID(), Transport: codec.Logtail, Log: &codec.Log{
			CreatedAt: int64(i), Kind: codec.KindLifecycle, Level: "INFO", Message: "listening",
			Cursor: &codec.Cursor{Key: "/tmp/oc/*.log", File: "/tmp/oc/a.log", Dev: 1, Inode: 42, Offset: off},
		}}
	}
	close(in)
	if err := w.Run(); err != nil {
		t.Fatal(err)
	}
	c, err := db.Cursor(context.Background(), "/tmp/oc/*.log")
	if err != nil {
		t.Fatal(err)
	}
	want := codec.Cursor{Key: "/tmp/oc/*.log", File: "/tmp/oc/a.log", Dev: 1, Inode: 42, Offset: 250}
	if c == nil || *c != want {
		t.Errorf("cursor = %+v, want %+v", c, want)
	}
	if c, err := db.Cursor(context.Background(), "other"); c != nil || err != nil {
		t.Errorf("unknown key: %+v, %v", c, err)
	}
}

func BenchmarkWriter1KBTraces(b *testing.B) { benchWriter1KB(b, MustOpenDB(b)) }

// benchWriter1KB writes b.N traces of about 1 KB to db and reports rows/s.
func benchWriter1KB(b *testing.B, db *DB) {
	text := strings.Repeat("x", 900)
	in := make(chan codec.Event, 512)
	w := NewWriter(db, in)
	done := make(chan error)
	go func() { done <- w.Run() }()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := traceEvent("gpt-4o")
		ev.Trace.InputText = &text
		in <- ev
	}
	close(in)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
