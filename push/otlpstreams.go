package push

import (
	"fmt"

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

func (s signal) String() string { return [...]string{"traces", "logs", "metrics"}[s] }

// streams are every stream in the order a cycle exports them. The
// histograms built from llm_traces keep a position of their own, so each
// trace is counted in them once even if a span request fails after it.
var streams = []Stream{
	{SinkOTLP, "llm_traces", sigTraces, buildFrom(decodeSpans)},
	{SinkOTLP + ".histograms", "llm_traces", sigMetrics, buildFrom(decodeThen((*Exporter).buildHistograms))},
	{SinkOTLP, "error_events", sigLogs, buildFrom(decodeThen((*Exporter).buildErrorLogs))},
	{SinkOTLP, "log_events", sigLogs, buildFrom(decodeThen((*Exporter).buildLogEvents))},
	{SinkOTLP, "system_metrics", sigMetrics, buildFrom(decodeThen((*Exporter).buildGauges))},
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

// decodeThen decodes a page's rows as T and maps them with build.
func decodeThen[T, M any](build func(*Exporter, []T) (M, int)) func(*Exporter, []Row) (any, int, int) {
	return func(e *Exporter, rows []Row) (any, int, int) {
		good, bad := decodeRows[T](rows)
		msg, n := build(e, good)
		return msg, n, bad
	}
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

// StreamsByTable returns, by table, the names of Streams' positions: what
// the store's Cleaner waits for before retention deletes a row.
func (e *Exporter) StreamsByTable() map[string][]string {
	m := map[string][]string{}
	for _, st := range e.Streams() {
		m[st.Table] = append(m[st.Table], st.Name)
	}
	return m
}

func (e *Exporter) url(s signal) string {
	return [...]string{e.TracesURL, e.LogsURL, e.MetricsURL}[s]
}
