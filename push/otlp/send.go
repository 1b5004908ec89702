package otlp

import (
	"context"
	"net/http"
	"time"

	"github.com/openclaw/openclaw-trace/push"
)

// send POSTs one request to the signal's URL with the shared retries, and
// counts what a partial success says was dropped.
func (e *Exporter) send(ctx context.Context, sig signal, raw []byte) error {
	wire := raw
	if e.Gzip {
		var err error
		if wire, err = e.gz.Compress(raw); err != nil {
			return err
		}
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
		_, answer, err := push.Post(ctx, e.HTTPClient, e.url(sig), h, wire, e.Now)
		if err != nil {
			e.Failures[push.Classify(ctx, err)].Add(1)
			return err
		}
		e.RequestsOK.Add(1)
		e.last.SetOK(e.Now())
		e.countPartial(answer)
		return nil
	}
	notify := func(err error, wait time.Duration) {
		e.Logger.Warn("otlp request failed, retrying", "err", push.ShortError(err), "wait", wait.Round(time.Millisecond))
	}
	return e.Retry.Do(ctx, attempt, &e.Retries, notify)
}

func (e *Exporter) countPartial(answer []byte) {
	ps, err := decodePartialSuccess(answer, e.JSON)
	if err != nil {
		e.AnswersUnreadable.Add(1) // delivered all the same: the answer was 2xx
		return
	}
	if ps.Rejected > 0 {
		e.Rejected.Add("partial_success", ps.Rejected)
	}
	if ps.Rejected > 0 || ps.Message != "" {
		// A message alone is a warning from the receiver: nothing was dropped.
		e.Logger.Warn("otlp receiver dropped part of a request", "rejected", ps.Rejected, "message", ps.Message)
	}
}
