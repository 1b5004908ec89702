package otlp

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/openclaw/openclaw-trace/codec"
)

// Stream is one flow of rows to one OTLP signal, with its own position.
type Stream struct {
	Name  string // position key (the sink)
	Table *codec.Table
	sig   signal
	build func(e *Exporter, rows []codec.Row) (raw []byte, items, bad int, err error)
}

type signal uint8

const (
	sigTraces signal = iota
	sigLogs
	sigMetrics
)

func (s signal) String() string { return [...]string{"traces", "logs", "metrics"}[s] }

// empty is a request of the signal without data.
func (s signal) empty() any {
	switch s {
	case sigTraces:
		return ptrace.NewTraces()
	case sigLogs:
		return plog.NewLogs()
	}
	return pmetric.NewMetrics()
}

// streams are every stream in the order a cycle exports them. The
// histograms built from llm_traces keep a position of their own, so each
// trace is counted in them once even if a span request fails after it.
var streams = []Stream{
	{SinkName, codec.LLMTraces, sigTraces, buildFrom(codec.LLMTraces, (*Exporter).buildSpans)},
	{SinkName + ".histograms", codec.LLMTraces, sigMetrics, buildFrom(codec.LLMTraces, (*Exporter).buildHistograms)},
	{SinkName, codec.ErrorEvents, sigLogs, buildFrom(codec.ErrorEvents, (*Exporter).buildErrorLogs)},
	{SinkName, codec.LogEvents, sigLogs, buildFrom(codec.LogEvents, (*Exporter).buildLogEvents)},
	{SinkName, codec.SystemMetrics, sigMetrics, buildFrom(codec.SystemMetrics, (*Exporter).buildGauges)},
}

// buildFrom decodes a page's rows of table and maps them with build, which
// returns its message, the items in it and the rows it could not map.
func buildFrom[M any](table *codec.Table, build func(*Exporter, []codec.Event) (M, int, int)) func(*Exporter, []codec.Row) ([]byte, int, int, error) {
	return func(e *Exporter, rows []codec.Row) ([]byte, int, int, error) {
		evs, bad := decodeRows(table, rows)
		msg, items, badMapped := build(e, evs)
		bad += badMapped
		if items == 0 {
			return nil, 0, bad, nil
		}
		raw, err := e.marshal(msg)
		return raw, items, bad, err
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

// StreamsByTable returns, by table name, the names of Streams' positions:
// what the store's Cleaner waits for before retention deletes a row.
func (e *Exporter) StreamsByTable() map[string][]string {
	m := map[string][]string{}
	for _, st := range e.Streams() {
		m[st.Table.Name] = append(m[st.Table.Name], st.Name)
	}
	return m
}

func (e *Exporter) url(s signal) string {
	return [...]string{e.TracesURL, e.LogsURL, e.MetricsURL}[s]
}
