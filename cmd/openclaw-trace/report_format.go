package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openclaw/openclaw-trace/store/view"
)

// unknown is what the report shows for a value nobody knows: a cost of
// unpriced calls, a latency never measured. Never $0 or 0 ms.
const unknown = "–"

// costText is the cost of the priced calls, with the unpriced ones named:
// never "$0" for calls that have no price.
func costText(t view.Stats) string {
	switch {
	case t.CostUSD == nil && t.UnpricedCalls > 0:
		return fmt.Sprintf("unknown (%s unpriced calls)", count(t.UnpricedCalls))
	case t.CostUSD == nil:
		return unknown
	case t.UnpricedCalls > 0:
		return fmt.Sprintf("%s + %s unpriced calls", usd(*t.CostUSD), count(t.UnpricedCalls))
	}
	return usd(*t.CostUSD)
}

// usd shows cents from $100 up, four decimals from a cent up, and below a
// cent two significant digits ($0.00004): a call costs fractions of a
// cent, and rounding one to $0.0000 would say it was free.
func usd(v float64) string {
	switch {
	case v >= 100:
		whole := int64(v)
		cents := int64((v-float64(whole))*100 + 0.5)
		if cents == 100 {
			whole, cents = whole+1, 0
		}
		return fmt.Sprintf("$%s.%02d", count(whole), cents)
	case v >= 0.01:
		return "$" + strconv.FormatFloat(v, 'f', 4, 64)
	case v <= 0:
		return "$0"
	}
	decimals := min(int(-math.Floor(math.Log10(v)))+1, 9) // costs are nano-dollars
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "0" {
		return "$0.000000001"
	}
	return "$" + s
}

func ms(v *float64) string {
	switch {
	case v == nil:
		return unknown
	case *v < 1000:
		return fmt.Sprintf("%.0f ms", *v)
	}
	return fmt.Sprintf("%.2f s", *v/1000)
}

// plural is n and what it counts, an "s" added unless n is 1.
func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return count(n) + " " + what + "s"
}

func pct(r float64) string { return fmt.Sprintf("%.1f%%", 100*r) }

// count formats n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// compact is count up to 99,999, then three significant digits with k,
// M or B: a table of token counts stays narrow.
func compact(n int64) string {
	if n < 100_000 {
		return count(n)
	}
	v, unit := float64(n), ""
	for _, u := range []string{"k", "M", "B", "T"} {
		if v < 999.5 {
			break
		}
		v, unit = v/1000, u
	}
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f%s", v, unit)
	case v >= 9.995:
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	return fmt.Sprintf("%.2f%s", v, unit)
}

func utc(unixMS int64) string { return time.UnixMilli(unixMS).UTC().Format("2006-01-02 15:04:05") }

func orNone(k string) string {
	if k == "" {
		return "(none)"
	}
	return clean(k)
}

// oneLine is s cleaned, its white space folded, cut at n runes.
func oneLine(s string, n int) string {
	s = clean(strings.Join(strings.Fields(s), " "))
	return cut(s, n)
}

// cut shortens s to n runes, the last one an ellipsis when anything is cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-1]) + "…"
}

// clean shows names and messages from the network as printable text: a
// control or format character (an escape sequence, a tab, a bidi
// override) or broken UTF-8 becomes "?", so it cannot drive the terminal
// or break a table.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return '?'
		}
		return r
	}, s)
}

// width is how many columns s takes (one per rune: the report's own text
// and cleaned names).
func width(s string) int { return utf8.RuneCountInString(s) }
