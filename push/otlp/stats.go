package otlp

import (
	"sync/atomic"

	"github.com/openclaw/openclaw-trace/push"
)

// Stats are the Exporter's counters, for /metrics and /health.
type Stats struct {
	Cycles            atomic.Int64
	CyclesFailed      atomic.Int64
	Requests          atomic.Int64 // HTTP attempts, retries included
	Retries           atomic.Int64 // attempts after a request's first
	RequestsOK        atomic.Int64 // answered 2xx
	RowsExported      atomic.Int64 // rows of requests answered 2xx
	BytesSent         atomic.Int64 // encoded request bytes of every attempt
	WireBytesSent     atomic.Int64 // on the wire (gzip'd when Gzip)
	AnswersUnreadable atomic.Int64 // 2xx answers whose partial success could not be decoded
	Failures          [push.NumFailureClasses]atomic.Int64

	// Rejected counts the rows passed over without delivery, by reason:
	// http_<code> (the receiver refused the request for good),
	// partial_success (items a 2xx answer said it dropped), undecodable (a
	// stored row that is not valid), encode.
	Rejected push.Rejects
}
