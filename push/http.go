package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// StatusError is an answer other than 2xx.
type StatusError struct {
	Code       int
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
	Body       string        // the start of the answer, for push_log
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("http %d", e.Code)
	}
	return fmt.Sprintf("http %d: %s", e.Code, e.Body)
}

// Retryable reports whether the same body may succeed later: on timeouts,
// rate limits and server errors, not on other client errors.
func (e *StatusError) Retryable() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// Refused reports whether the receiver refuses this body for good: a 4xx
// other than 408 and 429, and other than the answers of a broken set-up
// (401, 403, 404, 405, 407: a bad token or URL refuses every body alike,
// so the rows are not at fault and must wait for the fix).
func (e *StatusError) Refused() bool {
	switch e.Code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusProxyAuthRequired:
		return false
	}
	return e.Code >= 400 && e.Code < 500
}

// Reject is the reason a row refused with e is counted under: http_<code>.
func (e *StatusError) Reject() string { return "http_" + strconv.Itoa(e.Code) }

// refusal returns the answer of err when it refuses the body (Refused).
func refusal(err error) *StatusError {
	var se *StatusError
	if errors.As(err, &se) && se.Refused() {
		return se
	}
	return nil
}

// maxErrorBody bounds what is kept of an error answer.
const maxErrorBody = 200

// maxAnswer bounds what is read of a 2xx answer (an OTLP partial success
// is a few hundred bytes).
const maxAnswer = 64 << 10

// Post sends body to endpoint with header, once, and returns the HTTP
// status (0 without an answer) and, on 2xx, the start of the answer. Any
// other status is a *StatusError; now dates its Retry-After.
func Post(ctx context.Context, hc *http.Client, endpoint string, header http.Header, body []byte,
	now func() time.Time) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err == nil && (req.URL.Scheme != "http" && req.URL.Scheme != "https" || req.URL.Host == "") {
		err = errors.New("endpoint is not an http(s) URL")
	}
	if err != nil {
		return 0, nil, backoff.Permanent(fmt.Errorf("build request: %w", err))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		// Drop the *url.Error around the cause: its text holds the
		// endpoint, whose query string may carry a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, err
	}
	defer func() {
		// Drain a little so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			answer = nil // the body was delivered; only the answer's details are lost
		}
		return resp.StatusCode, answer, nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return resp.StatusCode, nil, &StatusError{
		Code:       resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now()),
		Body:       strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")),
	}
}

// parseRetryAfter reads delay-seconds or an HTTP date; anything else, or a
// date in the past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Classify names the failure class of an attempt's error.
func Classify(ctx context.Context, err error) FailureClass {
	var se *StatusError
	switch {
	case ctx.Err() != nil:
		return FailCanceled
	case errors.As(err, &se):
		switch {
		case se.Code == http.StatusTooManyRequests:
			return FailHTTP429
		case se.Code >= 500:
			return FailHTTP5xx
		case se.Code >= 400:
			return FailHTTP4xx
		}
		return FailHTTPOther
	}
	return FailNetwork
}

// Reason is the short cause a sink's status shows after "error: ".
func Reason(ctx context.Context, err error) string {
	var se *StatusError
	switch {
	case ctx.Err() != nil:
		return "canceled"
	case errors.As(err, &se):
		return fmt.Sprintf("http %d", se.Code)
	case errors.As(err, new(*StoreError)):
		return "store"
	}
	return "network"
}

// StoreError marks a failure of the local database, so the status can
// tell it from a failure of the receiver (and a cool-down spares a
// receiver that did not fail).
type StoreError struct{ Err error }

func (e *StoreError) Error() string { return e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// ShortError is an attempt's error for push_log, logs and the status:
// without the URL that net/http puts in its errors (it may hold
// credentials), and short. Tokens and headers are never in an error.
func ShortError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > maxErrorBody {
		s = strings.ToValidUTF8(s[:maxErrorBody], "") + "…"
	}
	return s
}
