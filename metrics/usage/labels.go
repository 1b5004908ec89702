package usage

import (
	"strings"
	"unicode/utf8"
)

// MaxLabelBytes caps each label value: names from the network are kept
// for grouping, and a series' name is held once per family. Longer values
// are cut on a character boundary, so two names that differ only past it
// share a series.
const MaxLabelBytes = 128

// clip makes s a label value: valid UTF-8 (a bad byte becomes U+FFFD) of
// at most MaxLabelBytes.
func clip(s string) string {
	if len(s) <= MaxLabelBytes && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxLabelBytes {
		return s
	}
	n := MaxLabelBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// Labels formats name, value pairs as a Prometheus label set, `{a="x",b="y"}`
// ("" without pairs). Values are clipped (valid UTF-8, at most
// MaxLabelBytes) and escaped as the text format wants: \\, \" and \n are
// its only escapes, so Go's %q (\t, \x01) would break a scrape.
func Labels(pairs ...string) string {
	if len(pairs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	writePairs(&b, pairs...)
	b.WriteByte('}')
	return b.String()
}

func writePairs(b *strings.Builder, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i])
		b.WriteString(`="`)
		escaper.WriteString(b, clip(pairs[i+1]))
		b.WriteByte('"')
	}
}
