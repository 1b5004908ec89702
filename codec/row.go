package codec

import "encoding/json"

// Row is one stored row of a data table as a sink reads it: its local id
// (the sink's position, and what it marks once delivered) and its columns
// as one JSON object that includes trace_id.
type Row struct {
	ID   int64
	JSON json.RawMessage
}

// PushAttempt is one push_log row: one HTTP attempt of one push body.
type PushAttempt struct {
	At         int64  // unix ms when the attempt started
	BatchID    string // the body's batch_id; the same for its retries
	Status     string // "ok" or "error"
	HTTPStatus int    // 0 when no answer came (stored as NULL)
	Rows       int    // rows acknowledged by this attempt
	Bytes      int64  // uncompressed body size
	DurationMS int64
	Error      string // "" when none (stored as NULL); never holds the token
}
