package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Config is every OCT_* variable the daemon reads. The env tag holds the name
// and default; the help tag is what --help says about it.
type Config struct {
	Port            int           `env:"OCT_PORT, default=9090" help:"HTTP listen port (0 picks a free one)"`
	Bind            string        `env:"OCT_BIND, default=127.0.0.1" help:"HTTP listen address; loopback by default: ingest is not for the network"`
	SocketPath      string        `env:"OCT_SOCKET_PATH, default=/run/openclaw-trace.sock" help:"unix datagram socket; empty disables"`
	SocketMode      FileMode      `env:"OCT_SOCKET_MODE, default=0622" help:"octal file mode set on the socket after bind (writers need w)"`
	UDPAddr         string        `env:"OCT_UDP_ADDR, default=127.0.0.1:9090" help:"UDP listen address; empty disables"`
	DBPath          string        `env:"OCT_DB_PATH, default=/data/openclaw-trace.db" help:"SQLite database file"`
	LogLevel        LogLevel      `env:"OCT_LOG_LEVEL, default=info" help:"debug, info, warn or error"`
	QueueSize       int           `env:"OCT_QUEUE_SIZE, default=4096" help:"capacity of the one ingest queue (events)"`
	QueueMaxBytes   int64         `env:"OCT_QUEUE_MAX_BYTES, default=4194304" help:"bound on the estimated bytes of the events in the ingest queue (text, metadata, ~0.5 KB per event); a batch over it waits for an empty queue; 0: no bound but OCT_QUEUE_SIZE"`
	BatchSize       int           `env:"OCT_BATCH_SIZE, default=50" help:"most events in one writer transaction"`
	BatchWindow     time.Duration `env:"OCT_BATCH_WINDOW, default=500ms" help:"longest wait before a writer transaction commits"`
	MaxTextBytes    int           `env:"OCT_MAX_TEXT_BYTES, default=16384" help:"cap on input_text, output_text, message, stack_trace (UTF-8 safe)"`
	MaxBodyBytes    int64         `env:"OCT_MAX_BODY_BYTES, default=1048576" help:"HTTP body cap (413 above it)"`
	MetricsInterval time.Duration `env:"OCT_METRICS_INTERVAL, default=15s" help:"system sample interval; 0 disables"`
	MaxLabelSets    int           `env:"OCT_METRICS_MAX_SERIES, default=200" help:"most label sets (provider, model, agent, channel, trigger) each LLM usage family of /metrics holds; calls of others count under label values \"other\" and in openclaw_trace_llm_calls_folded_total"`
	RetentionDays   int           `env:"OCT_RETENTION_DAYS, default=3" help:"rows older than this many days are deleted (synced first)"`
	RollupRetention Days          `env:"OCT_ROLLUP_RETENTION, default=400" help:"days of daily rollups kept: spend and usage history beyond OCT_RETENTION_DAYS"`
	BudgetTZ        Zone          `env:"OCT_BUDGET_TZ, default=UTC" help:"IANA time zone whose days key daily rollups and budget windows (e.g. Europe/Berlin)"`
	Budgets         BudgetSpecs   `env:"OCT_BUDGETS" help:"spend limits, ;-separated [SCOPE=VALUE:]AMOUNTusd/WINDOW (see Budgets below); empty: none"`
	BudgetWarn      Percents      `env:"OCT_BUDGET_WARN, default=80%" help:"budget thresholds that alert before 100%, e.g. 50%,80%; none: only 100%"`
	AlertWebhookURL string        `env:"OCT_ALERT_WEBHOOK_URL" secret:"true" help:"budget alerts are POSTed here as JSON with a text field (Slack, Mattermost, Discord); a secret: never logged"`
	DiskHighWater   int           `env:"OCT_DISK_HIGH_WATERMARK, default=80" help:"percent of the DB volume above which old rows are evicted"`
	PushEndpoint    string        `env:"OCT_PUSH_ENDPOINT" help:"remote URL; empty disables push"`
	PushInterval    time.Duration `env:"OCT_PUSH_INTERVAL, default=5m" help:"push cycle"`
	PushToken       string        `env:"OCT_PUSH_TOKEN" secret:"true" help:"sent as Authorization: Bearer <token>; never logged"`
	PushMaxBytes    int           `env:"OCT_PUSH_MAX_BYTES, default=1048576" help:"cap on one push body before compression; larger batches are split"`
	PushGzip        bool          `env:"OCT_PUSH_GZIP, default=true" help:"gzip push bodies"`
	AgentID         string        `env:"OCT_AGENT_ID" help:"identifies this instance in every push (default: hostname)"`
	LogPath         string        `env:"OCT_LOG_PATH" help:"gateway log to follow: a file, a directory or a glob (newest match); empty disables"`
	LogMinLevel     LogLevel      `env:"OCT_LOG_MIN_LEVEL, default=info" help:"gateway log lines below this level are skipped"`
	ShutdownTimeout time.Duration `env:"OCT_SHUTDOWN_TIMEOUT, default=25s" help:"bound on drain + final push at SIGTERM"`
	PricesFile      string        `env:"OCT_PRICES_FILE" help:"JSON prices (USD per million tokens) that add to or override the embedded table; empty: table only"`

	// Doors and bounds (doors.go).
	Token                string `env:"OCT_TOKEN" secret:"true" help:"every HTTP request (ingest, /ui, JSON endpoints, /metrics) must carry Authorization: Bearer <token>, or Basic with it as password; required when OCT_BIND is not loopback; never logged"`
	AllowUnauthenticated bool   `env:"OCT_ALLOW_UNAUTHENTICATED, default=false" help:"serve a non-loopback OCT_BIND without OCT_TOKEN (anyone who reaches it can post events and read the data)"`
	AllowedHosts         string `env:"OCT_ALLOWED_HOSTS" help:"comma-separated host names a request's Host may name besides loopback and OCT_BIND (guards against DNS rebinding); * allows any"`
	MaxConnections       int    `env:"OCT_MAX_CONNECTIONS, default=256" help:"HTTP connections served at once; more wait for one to close"`
	MaxMetadataKeys      int    `env:"OCT_MAX_METADATA_KEYS, default=128" help:"cap on an event's metadata keys (unknown top-level fields included); the rest is dropped, noted in metadata.truncated"`
	MaxMetadataBytes     int    `env:"OCT_MAX_METADATA_BYTES, default=16384" help:"cap on an event's metadata as JSON, bytes; keys past it are dropped the same way"`
	DiskReserveBytes     int64  `env:"OCT_DISK_RESERVE_BYTES, default=4194304" help:"a file this size (at most 1/16 of the volume) beside the DB, released to free a full volume; the DB also leaves this much free; 0 disables both"`

	// The OTLP exporter: the standard OpenTelemetry variables (otlpconfig.go).
	OTLPEndpoint        string        `env:"OTEL_EXPORTER_OTLP_ENDPOINT" help:"OTLP/HTTP base URL; /v1/traces, /v1/logs, /v1/metrics are appended; empty (and no per-signal URL) disables the exporter"`
	OTLPTracesEndpoint  string        `env:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" help:"URL for spans, used as given"`
	OTLPLogsEndpoint    string        `env:"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" help:"URL for log records, used as given"`
	OTLPMetricsEndpoint string        `env:"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" help:"URL for metrics, used as given"`
	OTLPHeaders         Headers       `env:"OTEL_EXPORTER_OTLP_HEADERS" secret:"true" help:"key=value,... (values percent-encoded) sent on every OTLP request; never logged"`
	OTLPProtocol        Protocol      `env:"OTEL_EXPORTER_OTLP_PROTOCOL, default=http/protobuf" help:"http/protobuf or http/json"`
	OTLPCompression     Compression   `env:"OTEL_EXPORTER_OTLP_COMPRESSION" help:"gzip, or none (empty)"`
	OTLPTimeout         Millis        `env:"OTEL_EXPORTER_OTLP_TIMEOUT, default=10000" help:"milliseconds per OTLP request"`
	ServiceName         string        `env:"OTEL_SERVICE_NAME" help:"service.name of exported data (else from OTEL_RESOURCE_ATTRIBUTES, else openclaw)"`
	ResourceAttributes  KeyValues     `env:"OTEL_RESOURCE_ATTRIBUTES" help:"key=value,... resource attributes of exported data"`
	OTLPInterval        time.Duration `env:"OCT_OTLP_INTERVAL, default=10s" help:"OTLP export cycle"`
}

// LoadConfig reads the configuration through lookup and validates it. The
// error is one line that names the variable and the bad value.
func LoadConfig(ctx context.Context, lookup envconfig.Lookuper) (*Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: lookup}); err != nil {
		return nil, nameVariable(err, lookup)
	}
	if c.AgentID == "" {
		c.AgentID, _ = os.Hostname()
	}
	return &c, c.validate()
}

// nameVariable rewrites envconfig's "Field: reason" into "OCT_VAR: invalid
// value "x": reason", so the operator sees the name they set. The value of
// a variable that may hold a secret is never shown.
func nameVariable(err error, lookup envconfig.Lookuper) error {
	msg := err.Error()
	var out error = err
	eachVar(func(name, _, _ string, v reflect.Value, field string) {
		if reason, ok := strings.CutPrefix(msg, field+": "); ok {
			val, _ := lookup.Lookup(name)
			reason = strings.TrimPrefix(reason, fmt.Sprintf("invalid value %q: ", val))
			if isSecret(name) {
				reason = strings.ReplaceAll(reason, val, "***")
			}
			out = fmt.Errorf("%s: invalid value %s: %s", name, shown(name, val), reason)
		}
	}, &Config{})
	if out == err { // not a variable's: still never print a secret in it
		msg = hideSecrets(msg, lookup)
		out = errors.New(msg)
	}
	return out
}

func (c *Config) validate() error {
	checks := []struct {
		name string
		bad  bool
		val  any
		want string
	}{
		{"OCT_PORT", c.Port < 0 || c.Port > 65535, c.Port, "0..65535"},
		{"OCT_QUEUE_SIZE", c.QueueSize < 1, c.QueueSize, ">= 1"},
		{"OCT_QUEUE_MAX_BYTES", c.QueueMaxBytes < 0, c.QueueMaxBytes, ">= 0"},
		{"OCT_BATCH_SIZE", c.BatchSize < 1, c.BatchSize, ">= 1"},
		{"OCT_BATCH_WINDOW", c.BatchWindow <= 0, c.BatchWindow, "> 0"},
		{"OCT_MAX_TEXT_BYTES", c.MaxTextBytes < 1, c.MaxTextBytes, ">= 1"},
		{"OCT_MAX_BODY_BYTES", c.MaxBodyBytes < 1, c.MaxBodyBytes, ">= 1"},
		{"OCT_METRICS_INTERVAL", c.MetricsInterval < 0, c.MetricsInterval, ">= 0"},
		{"OCT_METRICS_MAX_SERIES", c.MaxLabelSets < 1, c.MaxLabelSets, ">= 1"},
		{"OCT_RETENTION_DAYS", c.RetentionDays < 1, c.RetentionDays, ">= 1"},
		{"OCT_ROLLUP_RETENTION", c.RollupRetention < 1, c.RollupRetention, ">= 1 day"},
		{"OCT_DISK_HIGH_WATERMARK", c.DiskHighWater < 1 || c.DiskHighWater > 100, c.DiskHighWater, "1..100"},
		{"OCT_PUSH_INTERVAL", c.PushInterval <= 0, c.PushInterval, "> 0"},
		{"OCT_PUSH_MAX_BYTES", c.PushMaxBytes < 1024, c.PushMaxBytes, ">= 1024"},
		{"OCT_SHUTDOWN_TIMEOUT", c.ShutdownTimeout <= 0, c.ShutdownTimeout, "> 0"},
		{"OCT_DB_PATH", c.DBPath == "", `""`, "a file path"},
		{"OCT_MAX_CONNECTIONS", c.MaxConnections < 1, c.MaxConnections, ">= 1"},
		{"OCT_MAX_METADATA_KEYS", c.MaxMetadataKeys < 1, c.MaxMetadataKeys, ">= 1"},
		{"OCT_MAX_METADATA_BYTES", c.MaxMetadataBytes < 64, c.MaxMetadataBytes, ">= 64"},
		{"OCT_DISK_RESERVE_BYTES", c.DiskReserveBytes < 0, c.DiskReserveBytes, ">= 0"},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("%s: invalid value %v: must be %s", ch.name, ch.val, ch.want)
		}
	}
	if _, err := loadPrices(c.PricesFile); err != nil {
		return fmt.Errorf("OCT_PRICES_FILE: invalid file %q: %v", c.PricesFile, err)
	}
	if c.PushEndpoint != "" && !strings.HasPrefix(c.PushEndpoint, "http://") && !strings.HasPrefix(c.PushEndpoint, "https://") {
		return fmt.Errorf("OCT_PUSH_ENDPOINT: invalid value %s: must be an http:// or https:// URL", shownURL(c.PushEndpoint))
	}
	if err := c.validateDoors(); err != nil {
		return err
	}
	if err := c.validateBudgets(); err != nil {
		return err
	}
	return c.validateOTLP()
}

// LogValue is what the startup log shows: everything, secrets masked and
// URLs without their passwords.
func (c *Config) LogValue() slog.Value {
	var attrs []slog.Attr
	eachVar(func(name, _, _ string, v reflect.Value, _ string) {
		val := fmt.Sprint(v.Interface())
		switch {
		case name == "OTEL_EXPORTER_OTLP_HEADERS": // prints its keys only
		case isSecret(name) && val != "":
			val = "***"
		case strings.Contains(val, "://"):
			val = redactURL(val)
		}
		attrs = append(attrs, slog.String(name, val))
	}, c)
	return slog.GroupValue(attrs...)
}

// PrintHelp writes the usage and every variable with its default.
func PrintHelp(w io.Writer) {
	fmt.Fprintf(w, `openclaw-trace %s: records LLM calls, errors, system metrics and gateway logs
of an OpenClaw agent in SQLite and pushes them in batches to a remote API.

Usage: openclaw-trace [--help] [--version] [--push-once]
       openclaw-trace report [--since 24h] [--by DIMS] [--json] [--db PATH] [--url URL]

  --help       print this help and exit
  --version    print version and commit and exit
  --push-once  push everything unsynced to OCT_PUSH_ENDPOINT, then exit
               (status 1 if anything stayed unsynced)
  report       summarise calls, cost, errors and drops (see report --help)

Configuration is read from the environment only:

`, version)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  VARIABLE\tDEFAULT\tMEANING")
	eachVar(func(name, def, help string, _ reflect.Value, _ string) {
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, def, help)
	}, &Config{})
	tw.Flush()
	fmt.Fprint(w, budgetHelp)
	fmt.Fprintf(w, "\nGOMEMLIMIT (Go's soft memory limit) is %dMiB unless set.\n", DefaultMemoryLimit>>20)
	fmt.Fprintln(w, "A bad value stops start-up with exit status 2 and a line naming the variable.")
}

// eachVar calls fn for every variable: its name, default, help, the field's
// value in c and the Go field name.
func eachVar(fn func(name, def, help string, v reflect.Value, field string), c *Config) {
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("env"), ",")
		def := ""
		if _, d, ok := strings.Cut(opts, "default="); ok {
			def = d
		}
		fn(name, def, f.Tag.Get("help"), rv.Field(i), f.Name)
	}
}

// FileMode is an octal file mode such as 0622.
type FileMode os.FileMode

// EnvDecode parses an octal mode.
func (m *FileMode) EnvDecode(s string) error {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("invalid value %q: must be an octal file mode like 0622", s)
	}
	*m = FileMode(n)
	return nil
}

func (m FileMode) String() string { return fmt.Sprintf("%#o", uint32(m)) }

// LogLevel is one of debug, info, warn, error. Not a struct: envconfig
// names the field in errors only for non-struct kinds.
type LogLevel slog.Level

// EnvDecode parses a level name.
func (l *LogLevel) EnvDecode(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		*l = LogLevel(slog.LevelDebug)
	case "info":
		*l = LogLevel(slog.LevelInfo)
	case "warn", "warning":
		*l = LogLevel(slog.LevelWarn)
	case "error":
		*l = LogLevel(slog.LevelError)
	default:
		return fmt.Errorf("invalid value %q: must be debug, info, warn or error", s)
	}
	return nil
}

// Level is the slog level.
func (l LogLevel) Level() slog.Level { return slog.Level(l) }

func (l LogLevel) String() string { return strings.ToLower(slog.Level(l).String()) }

// Days is a number of days, "400" or "400d".
type Days int

// EnvDecode parses a number of days.
func (d *Days) EnvDecode(s string) error {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "d"))
	if err != nil {
		return fmt.Errorf("invalid value %q: must be a number of days like 400 or 400d", s)
	}
	*d = Days(n)
	return nil
}

// Duration is d days long.
func (d Days) Duration() time.Duration { return time.Duration(d) * 24 * time.Hour }

// Zone is an IANA time zone name ("UTC", "Europe/Berlin"). Not a struct:
// envconfig names the field in errors only for non-struct kinds.
type Zone string

// EnvDecode checks that the zone is known.
func (z *Zone) EnvDecode(s string) error {
	if _, err := time.LoadLocation(s); err != nil {
		return fmt.Errorf("invalid value %q: must be an IANA time zone such as UTC or Europe/Berlin", s)
	}
	*z = Zone(s)
	return nil
}

// Location is the zone; "" is UTC.
func (z Zone) Location() *time.Location {
	loc, err := time.LoadLocation(string(z))
	if err != nil { // EnvDecode checked it
		return time.UTC
	}
	return loc
}

// DefaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT is set. Measured with 8 clients posting 839 KB traces of
// 50,000 metadata keys for 20 s (scripts/faults.sh): peak RSS 33-47 MB
// without a limit, 30.0 MB at 20 MiB, 28.6 MB at 18 MiB, 25.9 MB at
// 16 MiB (which accepted a third fewer bodies). Idle and ordinary load
// keep the heap well under it, where it costs nothing.
const DefaultMemoryLimit = 18 << 20

// applyMemoryLimit sets DefaultMemoryLimit unless GOMEMLIMIT is set.
func applyMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}
