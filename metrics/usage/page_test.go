package usage

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// TestFamiliesIndexes: Families is in the order of the fam* indexes.
func TestFamiliesIndexes(t *testing.T) {
	names := [numFamilies]string{CallsName, TokensName, CostName, UnpricedName, FailedName,
		LatencyName, TTFTName, FoldedName, LabelSetsName, LabelLimitName}
	if len(Families) != numFamilies {
		t.Fatalf("%d families, want %d", len(Families), numFamilies)
	}
	for i, f := range Families {
		if f.Name != names[i] || f.Help == "" || (f.Type == "counter") != strings.HasSuffix(f.Name, "_total") {
			t.Errorf("Families[%d] = %+v, want name %s, help, _total on counters only", i, f, names[i])
		}
	}
}

// TestSeriesPageHeaders: each family with samples is written whole after
// one HELP (with text) and one TYPE line; a family without any is absent.
func TestSeriesPageHeaders(t *testing.T) {
	s := NewSeries(10)
	s.Add([]codec.Event{call("a", func(t *codec.Trace) { t.LatencyMS = ptr[int64](10) }), call("b", nil)})
	var b strings.Builder
	s.WritePrometheus(&b)
	page := b.String()
	seen := map[string]bool{}
	current := ""
	for _, l := range strings.Split(strings.TrimSuffix(page, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "# HELP "):
			name, help, _ := strings.Cut(strings.TrimPrefix(l, "# HELP "), " ")
			if seen[name] || help == "" {
				t.Errorf("HELP again or without text: %q", l)
			}
			seen[name], current = true, name
		case strings.HasPrefix(l, "# TYPE "+current+" "):
		default:
			if !strings.HasPrefix(l, current) {
				t.Errorf("sample outside its family %s: %q", current, l)
			}
		}
	}
	for _, f := range Families {
		want := f.Name != TTFTName && f.Name != CostName && f.Name != FailedName && f.Name != TokensName
		if seen[f.Name] != want {
			t.Errorf("family %s written = %v, want %v:\n%s", f.Name, seen[f.Name], want, page)
		}
	}
}

// TestSeriesConcurrentScrape: the writer adds while /metrics is read (run
// with -race).
func TestSeriesConcurrentScrape(t *testing.T) {
	s := NewSeries(50)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 2000 {
			s.Add([]codec.Event{fullCall(fmt.Sprint("m", i%80))})
		}
	}()
	for range 20 {
		var b strings.Builder
		s.WritePrometheus(&b)
	}
	wg.Wait()
	got, _ := scrape(t, s)
	var calls int
	for k, v := range got {
		if strings.HasPrefix(k, CallsName+"{") {
			var n int
			fmt.Sscan(v, &n)
			calls += n
		}
	}
	if calls != 2000 {
		t.Errorf("calls = %d, want 2000", calls)
	}
}
