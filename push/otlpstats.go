package push

import (
	"maps"
	"sync"
	"sync/atomic"
)

// OTLPStats are the Exporter's counters, for /metrics and /health.
type OTLPStats struct {
	Cycles            atomic.Int64
	CyclesFailed      atomic.Int64
	Requests          atomic.Int64 // HTTP attempts, retries included
	Retries           atomic.Int64 // attempts after a request's first
	RequestsOK        atomic.Int64 // answered 2xx
	RowsExported      atomic.Int64 // rows of requests answered 2xx
	BytesSent         atomic.Int64 // encoded request bytes of every attempt
	WireBytesSent     atomic.Int64 // on the wire (gzip'd when Gzip)
	AnswersUnreadable atomic.Int64 // 2xx answers whose partial success could not be decoded
	Failures          [NumFailureClasses]atomic.Int64

	rejectMu sync.Mutex
	rejected map[string]int64 // rows (or, for partial_success, items) by reason
}

// Rejected returns the rows passed over without delivery, by reason:
// http_<code> (the receiver refused the request for good), partial_success
// (items a 2xx answer said it dropped), undecodable (a stored row that is
// not valid), encode.
func (s *OTLPStats) Rejected() map[string]int64 {
	s.rejectMu.Lock()
	defer s.rejectMu.Unlock()
	return maps.Clone(s.rejected)
}

// RejectedTotal sums Rejected.
func (s *OTLPStats) RejectedTotal() int64 {
	var n int64
	for _, v := range s.Rejected() {
		n += v
	}
	return n
}

func (s *OTLPStats) reject(reason string, n int64) {
	s.rejectMu.Lock()
	defer s.rejectMu.Unlock()
	if s.rejected == nil {
		s.rejected = map[string]int64{}
	}
	s.rejected[reason] += n
}
