package push

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"99999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestStatusErrorRetryable(t *testing.T) {
	for code, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 413: false,
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true} {
		if got := (&StatusError{Code: code}).Retryable(); got != want {
			t.Errorf("%d: Retryable = %v, want %v", code, got, want)
		}
	}
}

func TestStatusErrorRefused(t *testing.T) {
	for code, want := range map[int]bool{400: true, 413: true, 422: true, 409: true,
		401: false, 403: false, 404: false, 405: false, 407: false, 408: false, 429: false, 500: false, 503: false} {
		if got := (&StatusError{Code: code}).Refused(); got != want {
			t.Errorf("%d: Refused = %v, want %v", code, got, want)
		}
	}
}

func TestBadEndpointNotRetried(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(1, "x")...)
	for _, endpoint := range []string{"", "ftp://example.com/x", "http://"} {
		c := newTestClient(t, db, endpoint, nil)
		if _, err := c.PushOnce(context.Background()); err == nil || c.Attempts.Load() != 1 || c.Retries.Load() != 0 {
			t.Errorf("%q: err %v, %d attempts", endpoint, err, c.Attempts.Load())
		}
	}
}
