package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/openclaw/openclaw-trace/store/view"
)

// reportWidth is what the default report fits in; --wide lifts it.
const reportWidth = 100

// statColumn is one numeric column of a table of groups.
type statColumn struct {
	head string
	cell func(st *view.Stats) string
}

// statColumns are the numeric columns: a narrow set by default, every
// number with --wide.
func statColumns(wide bool) []statColumn {
	cost := func(st *view.Stats) string {
		switch {
		case st.CostUSD == nil:
			return unknown
		case st.UnpricedCalls > 0 && !wide:
			return usd(*st.CostUSD) + "*"
		}
		return usd(*st.CostUSD)
	}
	calls := statColumn{"CALLS", func(st *view.Stats) string { return count(st.Calls) }}
	errs := statColumn{"ERRORS", func(st *view.Stats) string { return count(st.Errors) }}
	p50 := statColumn{"P50", func(st *view.Stats) string { return ms(st.LatencyP50MS) }}
	p95 := statColumn{"P95", func(st *view.Stats) string { return ms(st.LatencyP95MS) }}
	if !wide {
		return []statColumn{calls, errs,
			{"IN", func(st *view.Stats) string { return compact(st.PromptTokens) }},
			{"OUT", func(st *view.Stats) string { return compact(st.CompletionTokens) }},
			{"COST", cost}, p50, p95}
	}
	return []statColumn{calls, errs,
		{"ERR%", func(st *view.Stats) string { return pct(st.ErrorRate) }},
		{"IN", func(st *view.Stats) string { return count(st.PromptTokens) }},
		{"CACHE R", func(st *view.Stats) string { return count(st.CacheReadTokens) }},
		{"CACHE W", func(st *view.Stats) string { return count(st.CacheWriteTokens) }},
		{"OUT", func(st *view.Stats) string { return count(st.CompletionTokens) }},
		{"REASONING", func(st *view.Stats) string { return count(st.ReasoningTokens) }},
		{"COST", cost},
		{"UNPRICED", func(st *view.Stats) string { return count(st.UnpricedCalls) }},
		p50, p95,
		{"P99", func(st *view.Stats) string { return ms(st.LatencyP99MS) }},
		{"TTFT P50", func(st *view.Stats) string { return ms(st.TTFTP50MS) }},
	}
}

// tableRow is one row: its names (one per name column) and numbers.
type tableRow struct {
	names []string
	st    *view.Stats
}

// writeTable prints rows under the name heads and the numeric columns:
// names left-aligned, numbers right-aligned, two spaces apart, indented
// by two. Without wide, names are cut (…) so the table fits reportWidth.
func writeTable(w io.Writer, heads []string, rows []tableRow, wide bool) {
	cols := statColumns(wide)
	cells := make([][]string, len(rows))
	nameW := make([]int, len(heads))
	numW := make([]int, len(cols))
	for i, h := range heads {
		nameW[i] = width(h)
	}
	for i, c := range cols {
		numW[i] = width(c.head)
	}
	marked := false
	for r, row := range rows {
		for i, n := range row.names {
			nameW[i] = max(nameW[i], width(n))
		}
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			cells[r][i] = c.cell(row.st)
			numW[i] = max(numW[i], width(cells[r][i]))
			marked = marked || strings.HasSuffix(cells[r][i], "*")
		}
	}
	if !wide {
		cols, cells, numW = fit(nameW, cols, cells, numW)
	}
	line := func(names, nums []string) {
		var b strings.Builder
		b.WriteString(" ")
		for i, n := range names {
			n = cut(n, nameW[i])
			b.WriteString(" " + n + strings.Repeat(" ", nameW[i]-width(n)) + " ")
		}
		for i, n := range nums {
			b.WriteString(" " + strings.Repeat(" ", numW[i]-width(n)) + n + " ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	numHeads := make([]string, len(cols))
	for i, c := range cols {
		numHeads[i] = c.head
	}
	line(heads, numHeads)
	for r, row := range rows {
		line(row.names, cells[r])
	}
	if marked {
		fmt.Fprintln(w, "  * some of these calls have no known price: COST is that of the others (--wide counts them)")
	}
}

// fit makes the table fit reportWidth: it narrows the widest name
// columns down to 6 runes each, then leaves out numeric columns (P95,
// P50, OUT, ERRORS, IN: CALLS and COST stay), then narrows names down to
// 3 runes. Each column takes its width plus two spaces, after an indent of
// one; the last one's trailing space is trimmed.
func fit(nameW []int, cols []statColumn, cells [][]string, numW []int) ([]statColumn, [][]string, []int) {
	total := func() int {
		t := 1
		for _, n := range append(append([]int{}, nameW...), numW...) {
			t += n + 2
		}
		return t - 1
	}
	narrow := func(least int) {
		for total() > reportWidth {
			widest := -1
			for i, n := range nameW {
				if n > least && (widest < 0 || n > nameW[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				return
			}
			nameW[widest]--
		}
	}
	narrow(6)
	for _, head := range []string{"P95", "P50", "OUT", "ERRORS", "IN"} {
		if total() <= reportWidth {
			break
		}
		i := slices.IndexFunc(cols, func(c statColumn) bool { return c.head == head })
		cols, numW = slices.Delete(cols, i, i+1), slices.Delete(numW, i, i+1)
		for r := range cells {
			cells[r] = slices.Delete(cells[r], i, i+1)
		}
	}
	narrow(3)
	return cols, cells, numW
}
