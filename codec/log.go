package codec

import "strings"

// TypeLog is a gateway event sent by a client rather than read from the
// gateway's log file: a channel message in or out, a lifecycle step. It
// is stored in log_events like the lines the log follower extracts.
const TypeLog = "log"

// LogKinds are the kinds a log event may have.
var LogKinds = []string{KindChannelIn, KindChannelOut, KindGatewayError, KindConfigChange, KindLifecycle, KindOther}

// Log validates one decoded log object: kind (required), channel,
// subsystem, level, message, ts, metadata.
func (p *Parser) Log(v any) (*Log, *FieldError) {
	o, err := p.newObject(v)
	if err != nil {
		return nil, err
	}
	defer o.release()
	l := &Log{}
	if _, present := o.get("kind"); !present {
		return nil, fieldErr("kind", "required, one of %v", LogKinds)
	}
	if l.Kind, err = o.enum("kind", "", LogKinds...); err != nil {
		return nil, err
	}
	fields := []struct {
		key string
		dst *string
	}{{"channel", &l.Channel}, {"subsystem", &l.Subsystem}, {"level", &l.Level}}
	for _, f := range fields {
		s, err := o.optString(f.key)
		if err != nil {
			return nil, err
		}
		if s != nil {
			*f.dst = *s
		}
	}
	l.Level = strings.ToLower(l.Level) // as the log follower stores it
	msg, err := o.optText("message")
	if err != nil {
		return nil, err
	}
	if msg != nil {
		l.Message = *msg
	}
	if l.CreatedAt, err = o.timestamp(); err != nil {
		return nil, err
	}
	if l.Metadata, err = o.metadata(); err != nil {
		return nil, err
	}
	l.Unknown = o.unknownFields()
	return l, nil
}
