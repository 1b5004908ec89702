package store

// migrations are applied in order; migration i brings PRAGMA user_version
// from i to i+1. Never edit a released one: append a new one.
var migrations = []string{
	// 1: the five data tables of DESIGN.md, push_log and the log follower's
	// saved positions.
	`
CREATE TABLE llm_traces (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	trace_id           TEXT    NOT NULL UNIQUE,
	created_at         INTEGER NOT NULL,
	provider           TEXT    NOT NULL,
	model              TEXT    NOT NULL,
	input_text         TEXT,
	output_text        TEXT,
	prompt_tokens      INTEGER,
	completion_tokens  INTEGER,
	total_tokens       INTEGER,
	cache_read_tokens  INTEGER,
	cache_write_tokens INTEGER,
	reasoning_tokens   INTEGER,
	cost_usd           REAL,
	latency_ms         INTEGER,
	ttft_ms            INTEGER,
	status             TEXT    NOT NULL DEFAULT 'ok',
	error_type         TEXT,
	metadata           TEXT,
	synced             INTEGER NOT NULL DEFAULT 0,
	pushed_at          INTEGER
);
CREATE TABLE error_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	trace_id    TEXT    NOT NULL UNIQUE,
	created_at  INTEGER NOT NULL,
	error_type  TEXT    NOT NULL,
	message     TEXT    NOT NULL,
	code        TEXT,
	stack_trace TEXT,
	severity    TEXT    NOT NULL DEFAULT 'error',
	metadata    TEXT,
	synced      INTEGER NOT NULL DEFAULT 0,
	pushed_at   INTEGER
);
CREATE TABLE system_metrics (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	trace_id          TEXT    NOT NULL UNIQUE,
	created_at        INTEGER NOT NULL,
	cpu_pct           REAL,
	mem_current_bytes INTEGER,
	mem_limit_bytes   INTEGER,
	mem_rss_bytes     INTEGER,
	disk_total_bytes  INTEGER,
	disk_used_bytes   INTEGER,
	disk_free_bytes   INTEGER,
	disk_pct          REAL,
	io_read_bytes     INTEGER,
	io_write_bytes    INTEGER,
	metadata          TEXT,
	synced            INTEGER NOT NULL DEFAULT 0,
	pushed_at         INTEGER
);
CREATE TABLE log_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	trace_id   TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	kind       TEXT    NOT NULL,
	subsystem  TEXT,
	channel    TEXT,
	level      TEXT,
	message    TEXT,
	metadata   TEXT,
	synced     INTEGER NOT NULL DEFAULT 0,
	pushed_at  INTEGER
);
CREATE TABLE push_log (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at    INTEGER NOT NULL,
	batch_id      TEXT,
	status        TEXT    NOT NULL,
	http_status   INTEGER,
	events_pushed INTEGER NOT NULL DEFAULT 0,
	bytes         INTEGER,
	error_message TEXT,
	duration_ms   INTEGER
);
CREATE TABLE log_cursors (
	key        TEXT PRIMARY KEY,
	file       TEXT    NOT NULL,
	dev        INTEGER NOT NULL,
	inode      INTEGER NOT NULL,
	offset     INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
-- Push reads unsynced rows in insertion order; partial indexes stay as
-- small as the backlog. Retention deletes by age.
CREATE INDEX llm_traces_unsynced     ON llm_traces (id)     WHERE synced = 0;
CREATE INDEX error_events_unsynced   ON error_events (id)   WHERE synced = 0;
CREATE INDEX system_metrics_unsynced ON system_metrics (id) WHERE synced = 0;
CREATE INDEX log_events_unsynced     ON log_events (id)     WHERE synced = 0;
CREATE INDEX llm_traces_created     ON llm_traces (created_at);
CREATE INDEX error_events_created   ON error_events (created_at);
CREATE INDEX system_metrics_created ON system_metrics (created_at);
CREATE INDEX log_events_created     ON log_events (created_at);
CREATE INDEX push_log_created       ON push_log (created_at);
`,
	// 2: where each trace's cost came from (codec.CostSupplied, CostTable,
	// CostUnpriced) and the price table version that priced it. Rows from
	// before had no table: a cost was supplied, or there was none.
	`
ALTER TABLE llm_traces ADD COLUMN cost_source TEXT;
ALTER TABLE llm_traces ADD COLUMN price_version TEXT;
UPDATE llm_traces SET cost_source = CASE WHEN cost_usd IS NULL THEN 'unpriced' ELSE 'supplied' END;
`,
	// 3: the delivery position of each sink other than the push (the OTLP
	// exporter), per stream and table.
	`
CREATE TABLE sink_positions (
	stream     TEXT    NOT NULL,
	table_name TEXT    NOT NULL,
	last_id    INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (stream, table_name)
);
`,
}
