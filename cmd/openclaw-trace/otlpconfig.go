package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The OTLP exporter is configured by the standard OpenTelemetry variables
// (https://opentelemetry.io/docs/specs/otel/protocol/exporter/), read into
// Config like the OCT_* ones. Types here keep Config comparable: lists of
// key=value pairs stay strings, checked at load and parsed when used.

// KeyValues is a W3C-baggage-style list, key1=value1,key2=value2, with
// percent-encoded values: OTEL_EXPORTER_OTLP_HEADERS and
// OTEL_RESOURCE_ATTRIBUTES.
type KeyValues string

// EnvDecode checks the list.
func (kv *KeyValues) EnvDecode(s string) error {
	if _, err := parseKeyValues(s); err != nil {
		return fmt.Errorf("invalid value %q: %w", s, err)
	}
	*kv = KeyValues(s)
	return nil
}

// Map returns the pairs; a later key wins.
func (kv KeyValues) Map() map[string]string {
	m, _ := parseKeyValues(string(kv)) // checked by EnvDecode
	return m
}

func parseKeyValues(s string) (map[string]string, error) {
	m := map[string]string{}
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("must be key=value pairs separated by commas")
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %s is not percent-encoded", k)
		}
		m[k] = dv
	}
	return m, nil
}

// Headers is OTEL_EXPORTER_OTLP_HEADERS: its values are credentials, so
// it prints as keys only.
type Headers string

// EnvDecode checks the list.
func (h *Headers) EnvDecode(s string) error { return (*KeyValues)(h).EnvDecode(s) }

// Map returns the headers.
func (h Headers) Map() map[string]string { return KeyValues(h).Map() }

func (h Headers) String() string {
	m := h.Map()
	keys := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		keys = append(keys, k+"=***")
	}
	return strings.Join(keys, ",")
}

// Protocol is OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf or http/json
// (grpc is not offered: it would double the binary).
type Protocol string

// EnvDecode checks the protocol.
func (p *Protocol) EnvDecode(s string) error {
	switch s {
	case "http/protobuf", "http/json":
		*p = Protocol(s)
		return nil
	}
	return fmt.Errorf("invalid value %q: must be http/protobuf or http/json", s)
}

// Compression is OTEL_EXPORTER_OTLP_COMPRESSION: gzip or none.
type Compression string

// EnvDecode checks the compression.
func (c *Compression) EnvDecode(s string) error {
	switch s {
	case "gzip", "none", "":
		*c = Compression(s)
		return nil
	}
	return fmt.Errorf("invalid value %q: must be gzip or none", s)
}

// Millis is OTEL_EXPORTER_OTLP_TIMEOUT: an integer of milliseconds, as
// the specification has it.
type Millis time.Duration

// EnvDecode parses milliseconds.
func (m *Millis) EnvDecode(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("invalid value %q: must be a positive number of milliseconds", s)
	}
	*m = Millis(time.Duration(n) * time.Millisecond)
	return nil
}

func (m Millis) String() string { return time.Duration(m).String() }

// otlpURLs returns the URL of each signal: the per-signal variable as
// given, else the base URL with /v1/<signal> appended; "" when neither is
// set (that signal is not exported).
func (c *Config) otlpURLs() (traces, logs, metrics string) {
	pick := func(own, path string) string {
		if own != "" {
			return own
		}
		if c.OTLPEndpoint == "" {
			return ""
		}
		return strings.TrimSuffix(c.OTLPEndpoint, "/") + path
	}
	return pick(c.OTLPTracesEndpoint, "/v1/traces"), pick(c.OTLPLogsEndpoint, "/v1/logs"),
		pick(c.OTLPMetricsEndpoint, "/v1/metrics")
}

// OTLPEnabled reports whether any signal has a URL.
func (c *Config) OTLPEnabled() bool {
	t, l, m := c.otlpURLs()
	return t != "" || l != "" || m != ""
}

func (c *Config) validateOTLP() error {
	for _, v := range []struct{ name, val string }{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", c.OTLPEndpoint},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", c.OTLPTracesEndpoint},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", c.OTLPLogsEndpoint},
		{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", c.OTLPMetricsEndpoint},
	} {
		if v.val == "" {
			continue
		}
		u, err := url.Parse(v.val)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: invalid value %s: must be an http:// or https:// URL", v.name, shownURL(v.val))
		}
	}
	if c.OTLPInterval <= 0 {
		return fmt.Errorf("OCT_OTLP_INTERVAL: invalid value %v: must be > 0", c.OTLPInterval)
	}
	return nil
}

// otlpResource is the resource of every export: OTEL_RESOURCE_ATTRIBUTES,
// then OTEL_SERVICE_NAME over service.name (as the SDKs do), with
// service.name defaulting to "openclaw" and service.instance.id to the
// agent id.
func (c *Config) otlpResource() map[string]string {
	r := c.ResourceAttributes.Map()
	if c.ServiceName != "" {
		r["service.name"] = c.ServiceName
	}
	if r["service.name"] == "" {
		r["service.name"] = "openclaw"
	}
	if r["service.instance.id"] == "" && c.AgentID != "" {
		r["service.instance.id"] = c.AgentID
	}
	return r
}
