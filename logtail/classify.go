package logtail

import (
	"strings"

	"github.com/openclaw/openclaw-trace/codec"
)

// Phrases are matched case-insensitively as substrings of the message.
var (
	configPhrases    = []string{"config change", "config hot reload", "config reload"}
	lifecyclePhrases = []string{
		"listening", "gateway ready", "sigterm", "sigint", "sigusr1", "sigusr2", "sighup",
		"restart", "shutting down", "shutdown", "starting", "started", "stopping", "stopped", "exiting",
	}
	outWords = []string{"send", "sent", "reply", "replied", "outbound", "deliver"}
	inWords  = []string{"receive", "inbound", "incoming", "message from", "update"}
)

// classify sets a line's kind and channel. Model-call and CLI lines that
// the generic rules would get wrong are named first (rules.go): they set
// metadata.rule and the fields read from their text. Then, first match
// wins:
//  1. gateway_error: level error or fatal, "lane task error", or an outbound
//     line that says it failed (a failed send is logged at warn too);
//  2. config_change: "config change …", "config hot reload …";
//  3. channel_in / channel_out, only for channel subsystems
//     (gateway/channels/<name>, or the older gateway/providers/<name>):
//     whichever direction word comes first in the message decides, since
//     the verb leads and any quoted user text follows it. Out: send
//     (sendMessage, sending), sent, reply, replied, outbound, deliver. In:
//     receive(d), inbound, incoming, "message from", update (getUpdates);
//  4. lifecycle: listening (on ws://…, "http server listening (…)"),
//     "gateway ready", signals, restart, shutting down, starting, started,
//     stopping, stopped, exiting;
//  5. other.
//
// The channel name is set whenever the subsystem is a channel, whatever
// the kind.
func classify(l *codec.Log) {
	l.Channel = channelOf(l.Subsystem)
	m := strings.ToLower(l.Message)
	if kind := byRule(l, m); kind != "" {
		l.Kind = kind
		return
	}
	l.Kind = generic(l.Channel, l.Level, m)
}

func generic(channel, level, m string) string {
	dir := direction(m)
	switch {
	case isError(level) || strings.Contains(m, "lane task error"):
		return codec.KindGatewayError
	case dir == codec.KindChannelOut && (strings.Contains(m, "fail") || strings.Contains(m, "error")):
		return codec.KindGatewayError
	case containsAny(m, configPhrases):
		return codec.KindConfigChange
	case channel != "" && dir != "":
		return dir
	case containsAny(m, lifecyclePhrases):
		return codec.KindLifecycle
	}
	return codec.KindOther
}

func isError(level string) bool { return level == "error" || level == "fatal" }

// channelOf returns <name> for gateway/channels/<name>[/…] and the older
// gateway/providers/<name>[/…], else "".
func channelOf(subsystem string) string {
	for _, p := range []string{"gateway/channels/", "gateway/providers/"} {
		if rest, ok := strings.CutPrefix(subsystem, p); ok {
			name, _, _ := strings.Cut(rest, "/")
			return name
		}
	}
	return ""
}

// direction returns channel_out or channel_in by the earliest direction
// word in m (lower-case), or "" when there is none.
func direction(m string) string {
	out, in := firstIndex(m, outWords), firstIndex(m, inWords)
	switch {
	case out < 0 && in < 0:
		return ""
	case in < 0 || (out >= 0 && out < in):
		return codec.KindChannelOut
	}
	return codec.KindChannelIn
}

func firstIndex(m string, words []string) int {
	first := -1
	for _, w := range words {
		if i := strings.Index(m, w); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

func containsAny(m string, words []string) bool {
	return firstIndex(m, words) >= 0
}
