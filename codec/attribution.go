package codec

// Attribution says who and what made an LLM call: what breakdowns and
// budgets group by. Every field is optional; "" is absent (stored NULL).
type Attribution struct {
	AgentID    string // the agent ("main")
	Channel    string // where the conversation is ("telegram")
	Trigger    string // what started the run: user, heartbeat, cron, memory, overflow, manual, or another short string
	CronJobID  string // the cron job, when Trigger is cron
	SessionKey string // the conversation ("agent:main:telegram:direct:1001")
	RunID      string // one agent run: the calls of one turn
	CallKind   string // turn, compaction, or another kind of call
}

// MaxAttributionBytes caps each attribution field: they are names that
// rows are grouped by, not text.
const MaxAttributionBytes = 256

// attributionFields are the wire names of the attribution fields, which
// are also their column names and their keys in metadata.
var attributionFields = [...]struct {
	key string
	dst func(a *Attribution) *string
}{
	{"agent_id", func(a *Attribution) *string { return &a.AgentID }},
	{"channel", func(a *Attribution) *string { return &a.Channel }},
	{"trigger", func(a *Attribution) *string { return &a.Trigger }},
	{"cron_job_id", func(a *Attribution) *string { return &a.CronJobID }},
	{"session_key", func(a *Attribution) *string { return &a.SessionKey }},
	{"run_id", func(a *Attribution) *string { return &a.RunID }},
	{"call_kind", func(a *Attribution) *string { return &a.CallKind }},
}

// attribution reads the top-level attribution fields into a. A field the
// event does not carry at top level is taken from its metadata object when
// a string is there under the same key: older senders (the OpenClaw plugin
// before wire fields existed) put agent_id, channel, trigger, session_key
// and run_id there. Metadata keeps what it holds either way.
func (o *object) attribution(a *Attribution) *FieldError {
	md, _ := o.m["metadata"].(map[string]any)
	for _, f := range attributionFields {
		s, err := o.optString(f.key)
		if err != nil {
			return err
		}
		if s != nil && len(*s) > MaxAttributionBytes {
			return fieldErr(f.key, "longer than %d bytes", MaxAttributionBytes)
		}
		if s != nil && *s != "" {
			*f.dst(a) = *s
			continue
		}
		// From metadata only what would have been valid at top level.
		if v, ok := md[f.key].(string); ok && len(v) <= MaxAttributionBytes {
			*f.dst(a) = v
		}
	}
	return nil
}
