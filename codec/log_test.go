package codec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParserLog(t *testing.T) {
	p := &Parser{MaxTextBytes: 8, Now: func() time.Time { return time.UnixMilli(42) }}
	cases := []struct {
		in        string
		field     string // "" = valid
		wantKind  string
		wantLevel string
		wantMsg   string
	}{
		{`{"type":"log","kind":"channel_in","channel":"telegram","message":"hi","level":"info"}`, "", "channel_in", "info", "hi"},
		{`{"kind":"channel_out","message":"0123456789"}`, "", "channel_out", "", "01234567"},
		{`{"kind":"lifecycle"}`, "", "lifecycle", "", ""},
		{`{"message":"no kind"}`, "kind", "", "", ""},
		{`{"kind":"chat"}`, "kind", "", "", ""},
		{`{"kind":"other","channel":5}`, "channel", "", "", ""},
		{`{"kind":"other","ts":-1}`, "ts", "", "", ""},
		{`{"kind":"other","metadata":[]}`, "metadata", "", "", ""},
	}
	for _, tc := range cases {
		var v any
		dec := json.NewDecoder(strings.NewReader(tc.in))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		got, ferr := p.Log(v)
		if tc.field != "" {
			if ferr == nil || ferr.Field != tc.field {
				t.Errorf("%s: error %v, want field %s", tc.in, ferr, tc.field)
			}
			continue
		}
		if ferr != nil {
			t.Errorf("%s: %v", tc.in, ferr)
			continue
		}
		if got.Kind != tc.wantKind || got.Level != tc.wantLevel || got.Message != tc.wantMsg || got.CreatedAt != 42 {
			t.Errorf("%s: got %+v", tc.in, got)
		}
	}
	b, err := p.Datagram([]byte(`{"type":"log","kind":"channel_in"}`), Unixgram)
	if err != nil || len(b.Events) != 1 || b.Events[0].Log == nil || b.Events[0].Table() != "log_events" || len(b.Events[0].TraceID) != 36 {
		t.Errorf("Datagram(log) = %+v, %v", b, err)
	}
}
