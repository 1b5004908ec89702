package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	llmusage "github.com/openclaw/openclaw-trace/metrics/usage"
)

func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	want := Config{
		Port: 9090, Bind: "127.0.0.1", SocketPath: "/run/openclaw-trace.sock", SocketMode: 0o622,
		UDPAddr: "127.0.0.1:9090", DBPath: "/data/openclaw-trace.db", LogLevel: LogLevel(slog.LevelInfo),
		QueueSize: 4096, QueueMaxBytes: 4 << 20, BatchSize: 50, BatchWindow: 500 * time.Millisecond, MaxTextBytes: 16384,
		MaxBodyBytes: 1048576, MetricsInterval: 15 * time.Second, MaxLabelSets: llmusage.DefaultMaxLabelSets, RetentionDays: 3, DiskHighWater: 80,
		RollupRetention: 400, BudgetTZ: "UTC", BudgetWarn: "80%",
		PushInterval: 5 * time.Minute, PushMaxBytes: 1048576, PushGzip: true, AgentID: host,
		LogMinLevel: LogLevel(slog.LevelInfo), ShutdownTimeout: 25 * time.Second,
		OTLPProtocol: "http/protobuf", OTLPTimeout: Millis(10 * time.Second), OTLPInterval: 10 * time.Second,
		MaxConnections: 256, MaxMetadataKeys: 128, MaxMetadataBytes: 16384, DiskReserveBytes: 4 << 20,
	}
	if *c != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", *c, want)
	}
}

func TestConfigRollupVariables(t *testing.T) {
	c, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"OCT_ROLLUP_RETENTION": "30d", "OCT_BUDGET_TZ": "Asia/Kolkata",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RollupRetention.Duration() != 30*24*time.Hour || c.BudgetTZ.Location().String() != "Asia/Kolkata" {
		t.Errorf("got %v, %v", c.RollupRetention, c.BudgetTZ)
	}
}

func TestConfigEmptyDisables(t *testing.T) {
	c, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"OCT_SOCKET_PATH": "", "OCT_UDP_ADDR": "", "OCT_METRICS_INTERVAL": "0", "OCT_LOG_LEVEL": "DEBUG",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SocketPath != "" || c.UDPAddr != "" || c.MetricsInterval != 0 || c.LogLevel.Level() != slog.LevelDebug {
		t.Errorf("got %+v", c)
	}
}

func TestConfigBadValues(t *testing.T) {
	cases := []struct{ name, value string }{
		{"OCT_PORT", "abc"}, {"OCT_PORT", "-1"}, {"OCT_PORT", "70000"},
		{"OCT_SOCKET_MODE", "999"}, {"OCT_SOCKET_MODE", "rw"},
		{"OCT_LOG_LEVEL", "loud"}, {"OCT_LOG_MIN_LEVEL", "verbose"},
		{"OCT_QUEUE_SIZE", "0"}, {"OCT_QUEUE_SIZE", "-5"}, {"OCT_QUEUE_SIZE", "x"}, {"OCT_QUEUE_MAX_BYTES", "-1"}, {"OCT_QUEUE_MAX_BYTES", "6MiB"},
		{"OCT_BATCH_SIZE", "0"}, {"OCT_BATCH_WINDOW", "5x"}, {"OCT_BATCH_WINDOW", "0s"},
		{"OCT_MAX_TEXT_BYTES", "-1"}, {"OCT_MAX_BODY_BYTES", "-1"},
		{"OCT_METRICS_INTERVAL", "-1s"}, {"OCT_METRICS_INTERVAL", "soon"}, {"OCT_METRICS_MAX_SERIES", "0"}, {"OCT_METRICS_MAX_SERIES", "many"},
		{"OCT_RETENTION_DAYS", "0"}, {"OCT_ROLLUP_RETENTION", "0"}, {"OCT_ROLLUP_RETENTION", "1y"},
		{"OCT_BUDGET_TZ", "Mars/Olympus"}, {"OCT_DISK_HIGH_WATERMARK", "101"}, {"OCT_DISK_HIGH_WATERMARK", "0"},
		{"OCT_PUSH_ENDPOINT", "ftp://x"}, {"OCT_PUSH_INTERVAL", "0"}, {"OCT_PUSH_INTERVAL", "often"},
		{"OCT_PUSH_MAX_BYTES", "-1"}, {"OCT_PUSH_GZIP", "maybe"},
		{"OCT_SHUTDOWN_TIMEOUT", "-1s"}, {"OCT_DB_PATH", ""},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"}, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "grpc://x"},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://"}, {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "x"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "novalue"}, {"OTEL_EXPORTER_OTLP_HEADERS", "a=%zz"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"}, {"OTEL_EXPORTER_OTLP_TIMEOUT", "0"},
		{"OTEL_RESOURCE_ATTRIBUTES", "=x"}, {"OCT_OTLP_INTERVAL", "0s"}, {"OCT_OTLP_INTERVAL", "often"},
		{"OCT_MAX_CONNECTIONS", "0"}, {"OCT_MAX_METADATA_KEYS", "0"}, {"OCT_MAX_METADATA_BYTES", "10"},
		{"OCT_DISK_RESERVE_BYTES", "-1"}, {"OCT_ALLOW_UNAUTHENTICATED", "perhaps"}, {"OCT_BIND", "0.0.0.0"},
		{"OCT_ALLOWED_HOSTS", "a.example,http://b"},
	}
	for _, tc := range cases {
		_, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{tc.name: tc.value}))
		if err == nil {
			t.Errorf("%s=%q accepted", tc.name, tc.value)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tc.name+": ") || strings.Contains(msg, "\n") {
			t.Errorf("%s=%q: error %q does not start with the variable's name on one line", tc.name, tc.value, msg)
		}
		if secret := isSecret(tc.name); tc.value != "" && strings.Contains(msg, tc.value) == secret {
			t.Errorf("%s=%q: error %q shows the bad value: %v; want %v (secret: %v)", tc.name, tc.value, msg,
				strings.Contains(msg, tc.value), !secret, secret)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "OCT_PUSH_TOKEN") {
		t.Errorf("--help: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "openclaw-trace ") {
		t.Errorf("--version: %d %q", code, out.String())
	}
	if code := run([]string{"--bogus"}, &out, &errb); code != 2 {
		t.Errorf("--bogus: exit %d, want 2", code)
	}
	t.Setenv("OCT_PORT", "nope")
	errb.Reset()
	if code := run(nil, &out, &errb); code != 2 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "OCT_PORT") {
		t.Errorf("bad OCT_PORT: exit %d, stderr %q", code, errb.String())
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var b bytes.Buffer
	PrintHelp(&b)
	eachVar(func(name, def, _ string, _ reflect.Value, _ string) {
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), name+" ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("--help does not list %s", name)
		} else if def != "" && !strings.Contains(line, def) {
			t.Errorf("--help line for %s lacks default %q: %q", name, def, line)
		}
	}, &Config{})
}

func TestConfigLogMasksToken(t *testing.T) {
	c, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{"OCT_PUSH_TOKEN": "s3cr3t-token"}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("configuration", "config", c)
	if strings.Contains(b.String(), "s3cr3t") || !strings.Contains(b.String(), `"OCT_PUSH_TOKEN":"***"`) {
		t.Errorf("log line: %s", b.String())
	}
}

// No value that may hold a secret is printed, in the start-up log or in a
// configuration error: OTEL_EXPORTER_OTLP_HEADERS='Authorization=Basic%20SECRET,bad'
// printed its whole value in the exit-2 line.
func TestConfigNeverPrintsSecrets(t *testing.T) {
	const secret = "SECRET-c2VjcmV0"
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20" + secret + ",bad"},
		{"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=" + secret + "%zz"},
		{"OCT_PUSH_ENDPOINT": "ftp://user:" + secret + "@example.com/x"},
		{"OCT_PUSH_ENDPOINT": "user:" + secret + "@example.com"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://u:" + secret + "@collector:4317"},
		{"OCT_TOKEN": secret, "OCT_PORT": "nope"},
	} {
		_, err := LoadConfig(context.Background(), envconfig.MapLookuper(env))
		if err == nil {
			t.Errorf("%v accepted", env)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%v: error %q shows the secret", env, err)
		}
	}
	c, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"OCT_TOKEN": secret, "OCT_PUSH_ENDPOINT": "https://user:" + secret + "@example.com/in?key=" + secret,
		"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=" + secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("configuration", "config", c)
	if strings.Contains(b.String(), secret) || !strings.Contains(b.String(), `"OCT_TOKEN":"***"`) {
		t.Errorf("log line: %s", b.String())
	}
}

// A non-loopback OCT_BIND needs OCT_TOKEN, or OCT_ALLOW_UNAUTHENTICATED.
func TestConfigNonLoopbackBind(t *testing.T) {
	for _, tc := range []struct {
		env map[string]string
		ok  bool
	}{
		{map[string]string{"OCT_BIND": "127.0.0.1"}, true},
		{map[string]string{"OCT_BIND": "::1"}, true},
		{map[string]string{"OCT_BIND": "localhost"}, true},
		{map[string]string{"OCT_BIND": "0.0.0.0"}, false},
		{map[string]string{"OCT_BIND": ""}, false},
		{map[string]string{"OCT_BIND": "10.1.2.3"}, false},
		{map[string]string{"OCT_BIND": "0.0.0.0", "OCT_TOKEN": "t"}, true},
		{map[string]string{"OCT_BIND": "0.0.0.0", "OCT_ALLOW_UNAUTHENTICATED": "true"}, true},
	} {
		_, err := LoadConfig(context.Background(), envconfig.MapLookuper(tc.env))
		if (err == nil) != tc.ok {
			t.Errorf("%v: err = %v, want ok %v", tc.env, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "OCT_TOKEN") {
			t.Errorf("%v: error %q does not name OCT_TOKEN", tc.env, err)
		}
	}
}
