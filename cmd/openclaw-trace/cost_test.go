package main

import (
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// TestUnpricedMetricLabels: model names come from the network; each must
// be one valid Prometheus sample line (escapes \\ \" \n only, UTF-8).
func TestUnpricedMetricLabels(t *testing.T) {
	m := &Main{Unpriced: &codec.Unpriced{}}
	for _, model := range []string{"tab\there", "quote\"back\\slash", "line\nbreak", "bad\xffutf8", "ctl\x01"} {
		m.Unpriced.Add("p", model)
	}
	var b strings.Builder
	m.costFamily().write(&b)
	for _, want := range []string{
		`{provider="p",model="tab` + "\t" + `here"} 1`,
		`{provider="p",model="quote\"back\\slash"} 1`,
		`{provider="p",model="line\nbreak"} 1`,
		`{provider="p",model="bad` + "\uFFFD" + `utf8"} 1`,
		`{provider="p",model="ctl` + "\x01" + `"} 1`,
	} {
		if !strings.Contains(b.String(), "openclaw_trace_traces_unpriced_total"+want+"\n") {
			t.Errorf("no line %q in:\n%s", want, b.String())
		}
	}
}
