// Package listener is the edge of the pipeline: HTTP, unix datagram and UDP
// intake. It hands what arrives to codec, which decodes and validates it,
// offers the events to the one ingest queue without ever blocking, and
// counts every unit it does not pass on, by reason.
package listener

import (
	"log/slog"

	"github.com/openclaw/openclaw-trace/codec"
)

// Packets handles datagrams, whatever socket they came from: split from
// reading so that it is tested without sockets.
type Packets struct {
	Transport codec.Transport
	Queue     *codec.Queue
	Parser    *codec.Parser
	Counters  *codec.Counters
	Logger    *slog.Logger
}

// HandlePacket hands one datagram to codec and offers its valid events to
// the queue. Invalid elements of an array are counted and the rest kept.
// b is not retained: decoding copies what it keeps.
func (p *Packets) HandlePacket(b []byte) {
	c := p.Counters
	c.Units.Add(1)
	c.Bytes.Add(int64(len(b)))
	batch, err := p.Parser.Datagram(b, p.Transport)
	if err != nil {
		p.debug("undecodable datagram", err)
		c.Drop(codec.DropDecodeError, 1)
		return
	}
	for _, r := range batch.Refused {
		p.debug("invalid event in datagram", r.Err, "index", r.Index)
	}
	if n := len(batch.Refused); n > 0 {
		c.Drop(codec.DropInvalid, int64(n))
	}
	c.Reported(batch.Reports, batch.ReportedDrops)
	if len(batch.Events) > 0 {
		c.Offer(p.Queue, batch.Events...)
	}
}

// debug logs at debug level only: a flood of bad datagrams must not turn
// into a flood of log lines. The counters are the record.
func (p *Packets) debug(msg string, err error, args ...any) {
	if p.Logger != nil {
		p.Logger.Debug(msg, append([]any{"transport", p.Transport.String(), "err", err}, args...)...)
	}
}
