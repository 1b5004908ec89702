package main

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

func TestOTLPConfig(t *testing.T) {
	cases := []struct {
		name                  string
		env                   map[string]string
		traces, logs, metrics string
	}{
		{"unset is off", nil, "", "", ""},
		{"base URL gets the signal paths", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://col:4318/"},
			"http://col:4318/v1/traces", "http://col:4318/v1/logs", "http://col:4318/v1/metrics"},
		{"per-signal URLs are used as given", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "https://col:4318/otel",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/ingest",
		}, "https://traces.example/ingest", "https://col:4318/otel/v1/logs", "https://col:4318/otel/v1/metrics"},
		{"one signal alone", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://l:1/x"}, "", "http://l:1/x", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(context.Background(), envconfig.MapLookuper(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			tr, l, m := c.otlpURLs()
			if tr != tc.traces || l != tc.logs || m != tc.metrics {
				t.Errorf("urls %q %q %q, want %q %q %q", tr, l, m, tc.traces, tc.logs, tc.metrics)
			}
			if c.OTLPEnabled() != (tc.traces+tc.logs+tc.metrics != "") {
				t.Errorf("enabled = %v", c.OTLPEnabled())
			}
		})
	}
}

func TestOTLPConfigValues(t *testing.T) {
	c, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":    "http://col:4318",
		"OTEL_EXPORTER_OTLP_HEADERS":     "Authorization=Basic%20c2VjcmV0LWtleQ==, x-tenant = t1",
		"OTEL_EXPORTER_OTLP_PROTOCOL":    "http/json",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
		"OTEL_EXPORTER_OTLP_TIMEOUT":     "2500",
		"OTEL_RESOURCE_ATTRIBUTES":       "service.name=from-attrs,deployment.environment.name=prod",
		"OTEL_SERVICE_NAME":              "gateway-7",
		"OCT_AGENT_ID":                   "agent-7",
		"OCT_OTLP_INTERVAL":              "250ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.OTLPHeaders.Map(), map[string]string{"Authorization": "Basic c2VjcmV0LWtleQ==", "x-tenant": "t1"}; !maps.Equal(got, want) {
		t.Errorf("headers %v, want %v", got, want)
	}
	want := map[string]string{"service.name": "gateway-7", "deployment.environment.name": "prod", "service.instance.id": "agent-7"}
	if got := c.otlpResource(); !maps.Equal(got, want) {
		t.Errorf("resource %v, want %v", got, want)
	}
	if c.OTLPProtocol != "http/json" || c.OTLPCompression != "gzip" || time.Duration(c.OTLPTimeout) != 2500*time.Millisecond ||
		c.OTLPInterval != 250*time.Millisecond {
		t.Errorf("got %+v", c)
	}
	// Header values are secrets: the start-up log shows only their keys.
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("configuration", "config", c)
	if strings.Contains(b.String(), "c2VjcmV0") || !strings.Contains(b.String(), `"OTEL_EXPORTER_OTLP_HEADERS":"Authorization=***,x-tenant=***"`) {
		t.Errorf("log line: %s", b.String())
	}
}
