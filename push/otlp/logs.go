package otlp

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/openclaw/openclaw-trace/codec"
)

// errorSeverity maps error_events.severity to OTLP severity numbers.
var errorSeverity = map[string]plog.SeverityNumber{
	"warning":  plog.SeverityNumberWarn,
	"error":    plog.SeverityNumberError,
	"critical": plog.SeverityNumberFatal,
}

// logSeverity maps gateway log levels (tslog: SILLY, TRACE, DEBUG, INFO,
// WARN, ERROR, FATAL) to OTLP severity numbers.
var logSeverity = map[string]plog.SeverityNumber{
	"silly": plog.SeverityNumberTrace, "trace": plog.SeverityNumberTrace,
	"debug": plog.SeverityNumberDebug, "info": plog.SeverityNumberInfo,
	"warn": plog.SeverityNumberWarn, "warning": plog.SeverityNumberWarn,
	"error": plog.SeverityNumberError, "fatal": plog.SeverityNumberFatal,
	"critical": plog.SeverityNumberFatal,
}

func (e *Exporter) newLogs() (plog.Logs, plog.LogRecordSlice) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	e.putResource(rl.Resource().Attributes())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scopeName)
	return ld, sl.LogRecords()
}

// buildErrorLogs maps error events to log records named
// openclaw.error, with the exception attributes of the conventions.
func (e *Exporter) buildErrorLogs(rows []codec.Event) (plog.Logs, int, int) {
	ld, recs := e.newLogs()
	recs.EnsureCapacity(len(rows))
	for i := range rows {
		r := rows[i].Error
		lr := recs.AppendEmpty()
		lr.SetTimestamp(msToTimestamp(r.CreatedAt))
		lr.SetObservedTimestamp(msToTimestamp(r.CreatedAt))
		lr.SetEventName("openclaw.error")
		sev, ok := errorSeverity[r.Severity]
		if !ok {
			sev = plog.SeverityNumberError
		}
		lr.SetSeverityNumber(sev)
		lr.SetSeverityText(strings.ToUpper(r.Severity))
		lr.Body().SetStr(r.Message)
		a := lr.Attributes()
		a.PutStr("error.type", r.ErrorType)
		a.PutStr("exception.message", r.Message)
		putOptStr(a, "exception.stacktrace", r.StackTrace)
		putOptStr(a, "openclaw.error.code", r.Code)
		a.PutStr("openclaw.trace_id", rows[i].TraceID)
		if sess := metaString(r.Metadata, "session_key", "session_id", "sessionKey"); sess != "" {
			a.PutStr("gen_ai.conversation.id", sess)
		}
		putMetadata(a, "openclaw.metadata.", r.Metadata, nil)
	}
	return ld, len(rows), 0
}

// buildLogEvents maps gateway log events to log records named
// openclaw.log.
func (e *Exporter) buildLogEvents(rows []codec.Event) (plog.Logs, int, int) {
	ld, recs := e.newLogs()
	recs.EnsureCapacity(len(rows))
	for i := range rows {
		r := rows[i].Log
		lr := recs.AppendEmpty()
		lr.SetTimestamp(msToTimestamp(r.CreatedAt))
		lr.SetObservedTimestamp(msToTimestamp(r.CreatedAt))
		lr.SetEventName("openclaw.log")
		if r.Level != "" {
			lr.SetSeverityText(r.Level)
			lr.SetSeverityNumber(logSeverity[strings.ToLower(r.Level)]) // unknown: unspecified
		}
		lr.Body().SetStr(r.Message)
		a := lr.Attributes()
		a.PutStr("openclaw.log.kind", r.Kind)
		putStr(a, "openclaw.log.subsystem", r.Subsystem)
		putStr(a, "openclaw.log.channel", r.Channel)
		a.PutStr("openclaw.trace_id", rows[i].TraceID)
		putMetadata(a, "openclaw.metadata.", r.Metadata, nil)
	}
	return ld, len(rows), 0
}
