package usage

import (
	"io"
	"strings"
)

// Header is a family's HELP and TYPE lines. The metrics library writes
// samples and histograms but not these: its HELP line has no text, which
// promtool check metrics rejects ("no help text").
func Header(name, typ, help string) string {
	return "# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " " + typ + "\n"
}

// In HELP text, \ and newline are the only escapes.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// headed writes header before the first bytes written through it, so a
// family without samples writes nothing.
type headed struct {
	w       io.Writer
	header  string
	written bool
}

func (h *headed) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !h.written {
		h.written = true
		if _, err := io.WriteString(h.w, h.header); err != nil {
			return 0, err
		}
	}
	return h.w.Write(p)
}
