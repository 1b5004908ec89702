package push

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
)

func TestBodySizeIsExact(t *testing.T) {
	cases := [][]int{ // table of each row added, in order
		{},
		{0},
		{3},
		{0, 0, 0},
		{1, 3},
		{0, 2, 2, 3},
		{0, 1, 2, 3, 3},
	}
	var b body
	for _, tablesOf := range cases {
		b.reset(`agent "quoted"`, "0190a6b0-0000-7000-8000-000000000000", 1700000000000)
		for i, table := range tablesOf {
			b.add(table, Row{ID: int64(i), JSON: json.RawMessage(fmt.Sprintf(`{"trace_id":"t%d"}`, i))})
		}
		size := b.size
		out := b.finish()
		if len(out) != size {
			t.Errorf("%v: size %d, body %d bytes: %s", tablesOf, size, len(out), out)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%v: %v: %s", tablesOf, err, out)
		}
		for _, table := range tables {
			if _, ok := m[table]; !ok {
				t.Errorf("%v: %s missing: %s", tablesOf, table, out)
			}
		}
		if !strings.HasPrefix(string(out), `{"agent_id":"agent \"quoted\"","batch_id":`) {
			t.Errorf("head: %s", out)
		}
	}
}

func TestBodyFits(t *testing.T) {
	var b body
	b.reset("a", "b", 1)
	if !b.fits(0, 1<<30, 10) {
		t.Error("an empty body refused a row")
	}
	b.add(0, Row{ID: 1, JSON: json.RawMessage(`{}`)})
	max := b.size + 3 // room for ",{}" exactly
	if !b.fits(0, 2, max) || b.fits(0, 3, max) {
		t.Error("fits is not exact")
	}
}

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

func TestFullJitter(t *testing.T) {
	c := NewClient("", nil)
	c.Retry.InitialInterval, c.Retry.MaxInterval = 100*time.Millisecond, 800*time.Millisecond
	caps := []time.Duration{100, 200, 400, 800, 800}
	for run := 0; run < 200; run++ {
		b := c.Retry.backOff()
		b.Reset()
		for i, cp := range caps {
			d := b.NextBackOff()
			if d < 0 || d >= cp*time.Millisecond || d == backoff.Stop {
				t.Fatalf("try %d: wait %v outside [0, %v)", i, d, cp*time.Millisecond)
			}
		}
	}
}
