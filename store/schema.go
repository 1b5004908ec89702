package store

// migrations are applied in order; migration i brings PRAGMA user_version
// from i to i+1. Never edit a released one: append a new one.
var migrations = []string{
	// 1: the data tables, push_log and the log follower's
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
	// 4: attribution as columns (who and what made each call), filled
	// from metadata for the rows stored before; the daily rollups that keep
	// spend beyond the raw rows' retention (store/rollup.go), and the state
	// that tells readers where raw rows stop being complete.
	`
ALTER TABLE llm_traces ADD COLUMN agent_id TEXT;
ALTER TABLE llm_traces ADD COLUMN channel TEXT;
ALTER TABLE llm_traces ADD COLUMN trigger TEXT;
ALTER TABLE llm_traces ADD COLUMN cron_job_id TEXT;
ALTER TABLE llm_traces ADD COLUMN session_key TEXT;
ALTER TABLE llm_traces ADD COLUMN run_id TEXT;
ALTER TABLE llm_traces ADD COLUMN call_kind TEXT;
-- What codec lifts from metadata for older senders: a non-empty string of
-- at most 256 bytes under the column's own name.
UPDATE llm_traces SET
	agent_id = CASE WHEN json_type(metadata, '$.agent_id') = 'text' AND length(CAST(json_extract(metadata, '$.agent_id') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.agent_id') END,
	channel = CASE WHEN json_type(metadata, '$.channel') = 'text' AND length(CAST(json_extract(metadata, '$.channel') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.channel') END,
	trigger = CASE WHEN json_type(metadata, '$.trigger') = 'text' AND length(CAST(json_extract(metadata, '$.trigger') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.trigger') END,
	cron_job_id = CASE WHEN json_type(metadata, '$.cron_job_id') = 'text' AND length(CAST(json_extract(metadata, '$.cron_job_id') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.cron_job_id') END,
	session_key = CASE WHEN json_type(metadata, '$.session_key') = 'text' AND length(CAST(json_extract(metadata, '$.session_key') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.session_key') END,
	run_id = CASE WHEN json_type(metadata, '$.run_id') = 'text' AND length(CAST(json_extract(metadata, '$.run_id') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.run_id') END,
	call_kind = CASE WHEN json_type(metadata, '$.call_kind') = 'text' AND length(CAST(json_extract(metadata, '$.call_kind') AS BLOB)) BETWEEN 1 AND 256
		THEN json_extract(metadata, '$.call_kind') END
WHERE json_valid(metadata);
-- A session's calls in order (the session drill-down).
CREATE INDEX llm_traces_session ON llm_traces (session_key, created_at) WHERE session_key IS NOT NULL;
-- One row per day (in the rollup zone) and group; '' is an absent name.
-- Latencies and time to first token are counted in 30 buckets each
-- (store/rollup_digest.go), enough for p50 and p95.
CREATE TABLE llm_rollups (
	day                TEXT    NOT NULL,
	provider           TEXT    NOT NULL,
	model              TEXT    NOT NULL,
	agent_id           TEXT    NOT NULL DEFAULT '',
	channel            TEXT    NOT NULL DEFAULT '',
	trigger            TEXT    NOT NULL DEFAULT '',
	cron_job_id        TEXT    NOT NULL DEFAULT '',
	calls              INTEGER NOT NULL DEFAULT 0,
	failures           INTEGER NOT NULL DEFAULT 0,
	prompt_tokens      INTEGER NOT NULL DEFAULT 0,
	completion_tokens  INTEGER NOT NULL DEFAULT 0,
	cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
	cache_write_tokens INTEGER NOT NULL DEFAULT 0,
	reasoning_tokens   INTEGER NOT NULL DEFAULT 0,
	cost_nanos         INTEGER NOT NULL DEFAULT 0,
	unpriced_calls     INTEGER NOT NULL DEFAULT 0,
	first_at           INTEGER NOT NULL,
	last_at            INTEGER NOT NULL,
	lat_0 INTEGER NOT NULL DEFAULT 0, lat_1 INTEGER NOT NULL DEFAULT 0, lat_2 INTEGER NOT NULL DEFAULT 0, lat_3 INTEGER NOT NULL DEFAULT 0, lat_4 INTEGER NOT NULL DEFAULT 0,
	lat_5 INTEGER NOT NULL DEFAULT 0, lat_6 INTEGER NOT NULL DEFAULT 0, lat_7 INTEGER NOT NULL DEFAULT 0, lat_8 INTEGER NOT NULL DEFAULT 0, lat_9 INTEGER NOT NULL DEFAULT 0,
	lat_10 INTEGER NOT NULL DEFAULT 0, lat_11 INTEGER NOT NULL DEFAULT 0, lat_12 INTEGER NOT NULL DEFAULT 0, lat_13 INTEGER NOT NULL DEFAULT 0, lat_14 INTEGER NOT NULL DEFAULT 0,
	lat_15 INTEGER NOT NULL DEFAULT 0, lat_16 INTEGER NOT NULL DEFAULT 0, lat_17 INTEGER NOT NULL DEFAULT 0, lat_18 INTEGER NOT NULL DEFAULT 0, lat_19 INTEGER NOT NULL DEFAULT 0,
	lat_20 INTEGER NOT NULL DEFAULT 0, lat_21 INTEGER NOT NULL DEFAULT 0, lat_22 INTEGER NOT NULL DEFAULT 0, lat_23 INTEGER NOT NULL DEFAULT 0, lat_24 INTEGER NOT NULL DEFAULT 0,
	lat_25 INTEGER NOT NULL DEFAULT 0, lat_26 INTEGER NOT NULL DEFAULT 0, lat_27 INTEGER NOT NULL DEFAULT 0, lat_28 INTEGER NOT NULL DEFAULT 0, lat_29 INTEGER NOT NULL DEFAULT 0,
	ttft_0 INTEGER NOT NULL DEFAULT 0, ttft_1 INTEGER NOT NULL DEFAULT 0, ttft_2 INTEGER NOT NULL DEFAULT 0, ttft_3 INTEGER NOT NULL DEFAULT 0, ttft_4 INTEGER NOT NULL DEFAULT 0,
	ttft_5 INTEGER NOT NULL DEFAULT 0, ttft_6 INTEGER NOT NULL DEFAULT 0, ttft_7 INTEGER NOT NULL DEFAULT 0, ttft_8 INTEGER NOT NULL DEFAULT 0, ttft_9 INTEGER NOT NULL DEFAULT 0,
	ttft_10 INTEGER NOT NULL DEFAULT 0, ttft_11 INTEGER NOT NULL DEFAULT 0, ttft_12 INTEGER NOT NULL DEFAULT 0, ttft_13 INTEGER NOT NULL DEFAULT 0, ttft_14 INTEGER NOT NULL DEFAULT 0,
	ttft_15 INTEGER NOT NULL DEFAULT 0, ttft_16 INTEGER NOT NULL DEFAULT 0, ttft_17 INTEGER NOT NULL DEFAULT 0, ttft_18 INTEGER NOT NULL DEFAULT 0, ttft_19 INTEGER NOT NULL DEFAULT 0,
	ttft_20 INTEGER NOT NULL DEFAULT 0, ttft_21 INTEGER NOT NULL DEFAULT 0, ttft_22 INTEGER NOT NULL DEFAULT 0, ttft_23 INTEGER NOT NULL DEFAULT 0, ttft_24 INTEGER NOT NULL DEFAULT 0,
	ttft_25 INTEGER NOT NULL DEFAULT 0, ttft_26 INTEGER NOT NULL DEFAULT 0, ttft_27 INTEGER NOT NULL DEFAULT 0, ttft_28 INTEGER NOT NULL DEFAULT 0, ttft_29 INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, provider, model, agent_id, channel, trigger, cron_job_id)
) WITHOUT ROWID;
-- zone: the IANA zone rollup days are dates in. raw_horizon: the newest
-- created_at of a call deleted since rollups began (NULL: none), so raw
-- rows after it are exactly the calls the rollups count. backfill: 1 until
-- the calls stored before this migration are added to the rollups (Open
-- does it, in the configured zone).
CREATE TABLE rollup_state (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	zone        TEXT    NOT NULL DEFAULT 'UTC',
	raw_horizon INTEGER,
	backfill    INTEGER NOT NULL DEFAULT 1
);
INSERT INTO rollup_state (id) VALUES (1);
CREATE TRIGGER llm_traces_horizon AFTER DELETE ON llm_traces
WHEN OLD.created_at > coalesce((SELECT raw_horizon FROM rollup_state WHERE id = 1), -9223372036854775808)
BEGIN
	UPDATE rollup_state SET raw_horizon = OLD.created_at WHERE id = 1;
END;
`,
	// 5: rows the push receiver refuses on their own are set aside: synced
	// = 2 (0 is waiting, 1 delivered), pushed_at when, push_error the
	// receiver's answer. The partial indexes keep counting them cheap.
	`
ALTER TABLE llm_traces ADD COLUMN push_error TEXT;
ALTER TABLE error_events ADD COLUMN push_error TEXT;
ALTER TABLE system_metrics ADD COLUMN push_error TEXT;
ALTER TABLE log_events ADD COLUMN push_error TEXT;
CREATE INDEX llm_traces_set_aside     ON llm_traces (id)     WHERE synced = 2;
CREATE INDEX error_events_set_aside   ON error_events (id)   WHERE synced = 2;
CREATE INDEX system_metrics_set_aside ON system_metrics (id) WHERE synced = 2;
CREATE INDEX log_events_set_aside     ON log_events (id)     WHERE synced = 2;
`,
	// 6: the budget alerts already raised, so each budget, threshold and
	// window alerts once, also across restarts (store/budget_alerts.go);
	// webhook_at is set once the alert webhook took it.
	`
CREATE TABLE budget_alerts (
	budget_id      TEXT    NOT NULL,
	limit_nanos    INTEGER NOT NULL,
	window_start   INTEGER NOT NULL,
	threshold_pct  INTEGER NOT NULL,
	window_end     INTEGER NOT NULL,
	spent_nanos    INTEGER NOT NULL,
	unpriced_calls INTEGER NOT NULL,
	created_at     INTEGER NOT NULL,
	webhook_at     INTEGER,
	PRIMARY KEY (budget_id, limit_nanos, window_start, threshold_pct)
) WITHOUT ROWID;
CREATE INDEX budget_alerts_window_end ON budget_alerts (window_end);
`,
}
