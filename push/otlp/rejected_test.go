package otlp

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
)

// A receiver that refuses every trace request, an empty one too, refuses
// the set-up rather than rows; as before narrowing, the page is counted
// and passed over, never re-sent in a loop.
func TestOTLPRejectedBodyIsCountedAndPassedOver(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(3, "x")...)
	rc := otlptest.NewReceiver(t, answerStatus("/v1/traces", http.StatusBadRequest))
	e := newTestExporter(t, db, rc)
	ctx := context.Background()
	if _, err := e.ExportOnce(ctx); err != nil {
		t.Fatalf("a rejected body failed the cycle: %v", err)
	}
	if _, err := e.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rc.Requests("/v1/traces"); got != 2 {
		t.Errorf("%d trace requests, want 2 (the page, then an empty one, refused too): a 400 must not be retried or re-sent", got)
	}
	if got := e.Rejected.Snapshot()["http_400"]; got != 3 {
		t.Errorf("rejected http_400 = %d, want 3", got)
	}
	if position(t, db, SinkName, codec.LLMTraces.Name) == 0 {
		t.Error("position did not pass the rejected rows")
	}
	// The histograms of the same rows went through.
	if rc.Requests("/v1/metrics") != 1 || e.RowsExported.Load() != 3 {
		t.Errorf("metrics requests %d, rows exported %d", rc.Requests("/v1/metrics"), e.RowsExported.Load())
	}
}

// One row the receiver refuses is passed over alone, counted; the other
// rows of its request are delivered, in both encodings.
func TestOTLPRefusedRowPassedOverRestDelivered(t *testing.T) {
	for _, isJSON := range []bool{false, true} {
		db := mustOpenDB(t)
		evs := traces(40, "x")
		evs[17].Trace.Model = "poison-model"
		writeEvents(t, db, evs...)
		rc := otlptest.NewReceiver(t, nil)
		rc.SetRefuse(func(path string, body []byte) int {
			if bytes.Contains(body, []byte("poison-model")) {
				return http.StatusBadRequest
			}
			return 0
		})
		e := newTestExporter(t, db, rc)
		e.JSON = isJSON
		e.LogsURL, e.MetricsURL = "", ""
		if _, err := e.ExportOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		spans, total := rc.SpansByTraceID()
		for i, ev := range evs {
			if _, ok := spans[ev.TraceID]; ok != (i != 17) {
				t.Errorf("json=%v: row %d delivered %v", isJSON, i, ok)
			}
		}
		if total != 39 || e.RowsExported.Load() != 39 || !maps.Equal(e.Rejected.Snapshot(), map[string]int64{"http_400": 1}) {
			t.Errorf("json=%v: %d spans, %d exported, rejected %v; want 39, 39, http_400: 1",
				isJSON, total, e.RowsExported.Load(), e.Rejected.Snapshot())
		}
		if b, _ := e.Backlog(context.Background()); b != 0 {
			t.Errorf("json=%v: backlog %d", isJSON, b)
		}
	}
}

func TestOTLPAuthFailureKeepsRows(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(2, "x")...)
	var deny atomic.Bool
	deny.Store(true)
	rc := otlptest.NewReceiver(t, func(_ string, _ int, w http.ResponseWriter) bool {
		if deny.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		return false
	})
	e := newTestExporter(t, db, rc)
	ctx := context.Background()
	if _, err := e.ExportOnce(ctx); err == nil {
		t.Fatal("a 401 passed as success")
	}
	if position(t, db, SinkName, codec.LLMTraces.Name) != 0 || e.Rejected.Total() != 0 {
		t.Error("a 401 passed rows over: a bad token would lose everything")
	}
	if e.LastExportStatus() != "error: http 401" {
		t.Errorf("status %q", e.LastExportStatus())
	}
	deny.Store(false)
	if _, err := e.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, n := rc.SpansByTraceID(); n != 2 {
		t.Errorf("%d spans after the token was fixed, want 2", n)
	}
}

func TestOTLPPartialSuccessIsCounted(t *testing.T) {
	for _, isJSON := range []bool{false, true} {
		db := mustOpenDB(t)
		writeEvents(t, db, traces(4, "x")...)
		rc := otlptest.NewReceiver(t, nil)
		rc.SetPartial(1)
		e := newTestExporter(t, db, rc)
		e.JSON = isJSON
		e.MetricsURL, e.LogsURL = "", ""
		if _, err := e.ExportOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := e.Rejected.Snapshot()["partial_success"]; got != 1 {
			t.Errorf("json=%v: partial_success = %d, want 1", isJSON, got)
		}
		if e.AnswersUnreadable.Load() != 0 {
			t.Errorf("json=%v: answer not decoded", isJSON)
		}
	}
}
