// Package listener is the edge of the pipeline: HTTP, unix datagram and UDP
// intake. It decodes and validates what arrives, offers the events to the
// one ingest queue without ever blocking, and counts every unit it does not
// pass on, by reason.
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

// HandlePacket decodes one datagram and offers its valid events to the
// queue. Invalid elements of an array are counted and the rest kept. b is
// not retained: decoding copies what it keeps.
func (p *Packets) HandlePacket(b []byte) {
	c := p.Counters
	c.Units.Add(1)
	c.Bytes.Add(int64(len(b)))
	f, err := codec.Sniff(b)
	if err != nil {
		p.debug("undecodable datagram", err)
		c.Drop(codec.DropDecodeError, 1)
		return
	}
	vals, err := codec.Decode(b, f)
	if err != nil {
		p.debug("undecodable datagram", err)
		c.Drop(codec.DropDecodeError, 1)
		return
	}
	evs := make([]codec.Event, 0, len(vals))
	for i, v := range vals {
		if codec.TypeOf(v) == codec.TypeClientStats {
			p.clientStats(v)
			continue
		}
		ev, ferr := p.Parser.Datagram(v)
		if ferr != nil {
			p.debug("invalid event in datagram", ferr, "index", i)
			c.Drop(codec.DropInvalid, 1)
			continue
		}
		ev.Transport = p.Transport
		evs = append(evs, *ev)
	}
	if len(evs) > 0 {
		c.Offer(p.Queue, evs...)
	}
}

func (p *Packets) clientStats(v any) {
	_, n, ferr := codec.ClientStats(v)
	if ferr != nil {
		p.debug("invalid client_stats", ferr)
		p.Counters.Drop(codec.DropInvalid, 1)
		return
	}
	p.Counters.ClientReports.Add(1)
	p.Counters.ClientReportedDrops.Add(n)
}

// debug logs at debug level only: a flood of bad datagrams must not turn
// into a flood of log lines. The counters are the record.
func (p *Packets) debug(msg string, err error, args ...any) {
	if p.Logger != nil {
		p.Logger.Debug(msg, append([]any{"transport", p.Transport.String(), "err", err}, args...)...)
	}
}
