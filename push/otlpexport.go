package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Stream is one flow of rows to one OTLP signal, with its own position.
type Stream struct {
	Name  string // position key (the sink)
	Table string
	sig   signal
	build func(e *Exporter, rows []Row) (raw []byte, items, bad int, err error)
}

type signal uint8

const (
	sigTraces signal = iota
	sigLogs
	sigMetrics
)

// streams are every stream in the order a cycle exports them. The
// histograms built from llm_traces keep a position of their own, so each
// trace is counted in them once even if a span request fails after it.
var streams = []Stream{
	{SinkOTLP, "llm_traces", sigTraces, buildFrom(decodeSpans)},
	{SinkOTLP + ".histograms", "llm_traces", sigMetrics, buildFrom(decodeHistograms)},
	{SinkOTLP, "error_events", sigLogs, buildFrom(decodeErrorLogs)},
	{SinkOTLP, "log_events", sigLogs, buildFrom(decodeLogEvents)},
	{SinkOTLP, "system_metrics", sigMetrics, buildFrom(decodeGauges)},
}

func buildFrom(f func(e *Exporter, rows []Row) (any, int, int)) func(*Exporter, []Row) ([]byte, int, int, error) {
	return func(e *Exporter, rows []Row) ([]byte, int, int, error) {
		msg, items, bad := f(e, rows)
		if items == 0 {
			return nil, 0, bad, nil
		}
		raw, err := e.marshal(msg)
		return raw, items, bad, err
	}
}

func decodeSpans(e *Exporter, rows []Row) (any, int, int) {
	good, bad := decodeRows[traceRow](rows)
	td, n, badID := e.buildSpans(good)
	return td, n, bad + badID
}

func decodeHistograms(e *Exporter, rows []Row) (any, int, int) {
	good, bad := decodeRows[traceRow](rows)
	md, n := e.buildHistograms(good)
	return md, n, bad
}

func decodeErrorLogs(e *Exporter, rows []Row) (any, int, int) {
	good, bad := decodeRows[errorRow](rows)
	ld, n := e.buildErrorLogs(good)
	return ld, n, bad
}

func decodeLogEvents(e *Exporter, rows []Row) (any, int, int) {
	good, bad := decodeRows[logRow](rows)
	ld, n := e.buildLogEvents(good)
	return ld, n, bad
}

func decodeGauges(e *Exporter, rows []Row) (any, int, int) {
	good, bad := decodeRows[metricRow](rows)
	md, n := e.buildGauges(good)
	return md, n, bad
}

// marshal encodes a request in the configured encoding. TracesData,
// LogsData and MetricsData are the same messages on the wire (and in
// JSON) as the Export*ServiceRequest of OTLP/HTTP.
func (e *Exporter) marshal(msg any) ([]byte, error) {
	switch m := msg.(type) {
	case ptrace.Traces:
		if e.JSON {
			return (&ptrace.JSONMarshaler{}).MarshalTraces(m)
		}
		return (&ptrace.ProtoMarshaler{}).MarshalTraces(m)
	case plog.Logs:
		if e.JSON {
			return (&plog.JSONMarshaler{}).MarshalLogs(m)
		}
		return (&plog.ProtoMarshaler{}).MarshalLogs(m)
	case pmetric.Metrics:
		if e.JSON {
			return (&pmetric.JSONMarshaler{}).MarshalMetrics(m)
		}
		return (&pmetric.ProtoMarshaler{}).MarshalMetrics(m)
	}
	return nil, fmt.Errorf("marshal: unknown message %T", msg)
}

// Streams returns the streams whose signal has a URL: the positions
// retention must wait for.
func (e *Exporter) Streams() []Stream {
	var out []Stream
	for _, st := range streams {
		if e.url(st.sig) != "" {
			out = append(out, st)
		}
	}
	return out
}

func (e *Exporter) url(s signal) string {
	return [...]string{e.TracesURL, e.LogsURL, e.MetricsURL}[s]
}

// ExportOnce exports every row past each stream's position, oldest first,
// in requests of at most PageSize rows. A stream stops at its first
// request that fails after its retries (its position stays before it), and
// so do the later streams of the same signal, whose receiver is the same;
// the other signals still go. A request the receiver rejects for good
// (4xx other than 408 and 429, and not an authentication or address
// error) is counted and passed over.
func (e *Exporter) ExportOnce(ctx context.Context) (rows int64, err error) {
	e.cycleMu.Lock()
	defer e.cycleMu.Unlock()
	e.Cycles.Add(1)
	var errs []error
	var down [3]bool // by signal
	for _, st := range e.Streams() {
		if down[st.sig] || ctx.Err() != nil {
			continue
		}
		n, err := e.exportStream(ctx, st)
		rows += n
		if err != nil {
			down[st.sig] = true
			errs = append(errs, err)
			e.Logger.Error("otlp export failed", "table", st.Table, "stream", st.Name, "err", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		// After the loop: a later signal's 2xx must not hide the failure.
		e.setStatus("error: " + reason(ctx, errs[0]))
		e.CyclesFailed.Add(1)
		return rows, err
	}
	return rows, ctx.Err()
}

func (e *Exporter) exportStream(ctx context.Context, st Stream) (int64, error) {
	pos, err := e.src.Position(ctx, st.Name, st.Table)
	if err != nil {
		e.Failures[FailStore].Add(1)
		return 0, &storeError{err}
	}
	var done int64
	for {
		page, err := e.src.PageAfter(ctx, st.Table, pos, e.PageSize)
		if err != nil {
			e.Failures[FailStore].Add(1)
			return done, &storeError{err}
		}
		if len(page) == 0 {
			return done, nil
		}
		if err := e.exportPage(ctx, st, page); err != nil {
			return done, err
		}
		pos = page[len(page)-1].ID
		if err := e.advance(ctx, st, pos); err != nil {
			return done, err
		}
		done += int64(len(page))
		if len(page) < e.PageSize {
			return done, nil
		}
	}
}

// exportPage sends one page as one request; nil means the position may
// pass it (delivered, or counted as rejected).
func (e *Exporter) exportPage(ctx context.Context, st Stream, page []Row) error {
	raw, items, bad, err := st.build(e, page)
	if bad > 0 {
		e.reject("undecodable", int64(bad))
	}
	if err != nil {
		e.reject("encode", int64(items))
		e.Logger.Error("otlp request not encoded; rows passed over", "table", st.Table, "rows", items, "err", err)
		return nil
	}
	if items == 0 {
		return nil
	}
	err = e.send(ctx, st.sig, raw)
	var se *StatusError
	if err != nil && errors.As(err, &se) && rejectedForGood(se.Code) {
		e.reject(fmt.Sprintf("http_%d", se.Code), int64(items))
		e.Logger.Warn("otlp request rejected; rows passed over", "table", st.Table, "rows", items, "err", shortError(err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("otlp %s: %w", st.Table, err)
	}
	e.RowsExported.Add(int64(items))
	return nil
}

// rejectedForGood tells a body the receiver will never accept (OTLP/HTTP:
// 400 for data it cannot decode or finds invalid) from a failure of the
// set-up: a bad token or URL (401, 403, 404, 405, 407) rejects every
// request, so passing over rows would lose them all; those wait, counted
// as failures, for the next cycle.
func rejectedForGood(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusProxyAuthRequired:
		return false
	}
	return code >= 400 && code < 500
}

// advance saves the position; the receiver has the rows now, so it is
// written even if ctx has just ended.
func (e *Exporter) advance(ctx context.Context, st Stream, id int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
	defer cancel()
	if err := e.src.Advance(ctx, st.Name, st.Table, id); err != nil {
		e.Failures[FailStore].Add(1)
		return &storeError{fmt.Errorf("rows delivered but position not saved (they will be sent again): %w", err)}
	}
	return nil
}

// send POSTs one request to the signal's URL with the push's retries, and
// counts what a partial success says was dropped.
func (e *Exporter) send(ctx context.Context, sig signal, raw []byte) error {
	wire, err := e.compress(raw)
	if err != nil {
		return err
	}
	h := http.Header{}
	if e.JSON {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/x-protobuf")
	}
	if e.Gzip {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("User-Agent", e.UserAgent)
	for k, v := range e.Headers {
		h.Set(k, v)
	}
	attempt := func() error {
		e.Requests.Add(1)
		e.BytesSent.Add(int64(len(raw)))
		e.WireBytesSent.Add(int64(len(wire)))
		_, answer, err := postOnce(ctx, e.HTTPClient, e.url(sig), h, wire, e.Now)
		if err != nil {
			e.Failures[classify(ctx, err)].Add(1)
			return err
		}
		e.RequestsOK.Add(1)
		e.setOK(e.Now())
		e.countPartial(answer)
		return nil
	}
	notify := func(err error, wait time.Duration) {
		e.Logger.Warn("otlp request failed, retrying", "err", shortError(err), "wait", wait.Round(time.Millisecond))
	}
	return e.retryPolicy().do(ctx, attempt, &e.Retries, notify)
}

func (e *Exporter) countPartial(answer []byte) {
	ps, err := decodePartialSuccess(answer, e.JSON)
	if err != nil {
		e.AnswersUnreadable.Add(1) // delivered all the same: the answer was 2xx
		return
	}
	if ps.Rejected > 0 || ps.Message != "" {
		e.reject("partial_success", ps.Rejected)
		e.Logger.Warn("otlp receiver dropped part of a request", "rejected", ps.Rejected, "message", ps.Message)
	}
}

func (e *Exporter) compress(raw []byte) ([]byte, error) {
	if !e.Gzip {
		return raw, nil
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level; BestSpeed: see cycle.payload
	if _, err := gz.Write(raw); err != nil {
		return nil, fmt.Errorf("gzip request: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("gzip request: %w", err)
	}
	return buf.Bytes(), nil
}

// Backlog counts, per table, the rows its furthest-behind stream has not
// exported yet, summed over tables.
func (e *Exporter) Backlog(ctx context.Context) (int64, error) {
	most := map[string]int64{}
	for _, st := range e.Streams() {
		pos, err := e.src.Position(ctx, st.Name, st.Table)
		if err != nil {
			return 0, err
		}
		n, err := e.src.CountAfter(ctx, st.Table, pos)
		if err != nil {
			return 0, err
		}
		most[st.Table] = max(most[st.Table], n)
	}
	var sum int64
	for _, n := range most {
		sum += n
	}
	return sum, nil
}
