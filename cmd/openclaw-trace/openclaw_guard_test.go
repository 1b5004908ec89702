package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// Budgets of TestOpenClawGuard, one session each: the mock's calls cost
// about $0.004 (see callCost), so g1's is crossed by its second turn, and
// the loops' by their fourth or fifth call.
const (
	guardBlock  = "session=agent:main:explicit:g1/day"
	guardLoop   = "session=agent:main:explicit:loop1/day"
	guardGreedy = "session=agent:main:explicit:greedy1/day"
	guardBudget = "session=agent:main:explicit:g1:0.006usd/day; session=agent:main:explicit:loop1:0.016usd/day; " +
		"session=agent:main:explicit:greedy1:0.016usd/day"
	loopLimit = 0.016
)

// TestOpenClawGuard: the plugin's budget guard in the pinned gateway,
// against the real sidecar's budgets (OCT_BUDGETS, its alert webhook on an
// httptest receiver) and the mock provider:
//   - a budget crossed by a session's second turn: one alert per threshold;
//     the third turn is blocked, its message reaches the CLI, the mock sees
//     no request for it
//   - a tool loop that crosses its budget makes one more model call, with a
//     model that obeys the blocked tool call and with one that does not
//   - with downgradeTo, a turn in the over session reaches the mock with the
//     other model
//   - with the sidecar stopped, turns run, and the gateway log says why
//   - without conversation access, one line at start says the guard cannot
//     act and how to enable it
func TestOpenClawGuard(t *testing.T) {
	kit := needOpenclaw(t)
	mock := startMockProvider(t)
	hook := startAlertReceiver(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "oct.sock")
	d := startDaemon(t, "", "OCT_SOCKET_PATH="+sock, "OCT_BUDGETS="+guardBudget, "OCT_ALERT_WEBHOOK_URL="+hook.srv.URL)
	waitFile(t, sock)
	needBudgets(t, d)
	gwLog := filepath.Join(dir, "openclaw.log")
	stats := filepath.Join(dir, "plugin-stats.jsonl")
	env := []string{"OCT_PLUGIN_STATS_FILE=" + stats}
	home := kit.guardHome(t, filepath.Join(dir, "home"), mock, gwLog, sock, d.Addr, map[string]any{"guard": "block", "staleMs": 3000, "budgetsPollMs": 500})
	stop := kit.startGateway(t, home, env)

	// the block: turn 2 crosses both thresholds, turn 3 is stopped
	kit.turn(t, home, "g1", "OCT-PLAIN-ga hello", env, false, true)
	kit.turn(t, home, "g1", "OCT-PLAIN-gb hello", env, false, true)
	out := kit.turnOut(t, home, "g1", "OCT-PLAIN-gc hello", env, false)
	if want := `Stopped by the spend budget \"` + guardBlock + `\"`; !strings.Contains(out, want) && !strings.Contains(out, strings.ReplaceAll(want, `\"`, `"`)) {
		t.Errorf("blocked turn: the CLI output does not carry the budget's message %s:\n%s", want, tail([]byte(out), 3000))
	}
	if n := mock.servedFor("OCT-PLAIN-gc"); n != 0 {
		t.Errorf("the blocked turn reached the mock provider: %d calls", n)
	}

	// tool loops, each crossing its budget on the way
	kit.turnOut(t, home, "loop1", "OCT-LOOP-l1 read the readme again and again", env, false)
	checkLoop(t, mock, "OCT-LOOP-l1", true)
	kit.turnOut(t, home, "greedy1", "OCT-GREEDY-r1 read the readme forever", env, false)
	checkLoop(t, mock, "OCT-GREEDY-r1", false)
	stop()

	// downgradeTo: a --local turn in the over session runs on mock/m2
	setPluginOption(t, home, "downgradeTo", "mock/m2")
	kit.turn(t, home, "g1", "OCT-PLAIN-gd hello", env, true, true)
	if ms := mock.modelsFor("OCT-PLAIN-gd"); len(ms) != 1 || ms[0] != "m2" {
		t.Errorf("downgraded turn: the mock saw models %v, want [m2]", ms)
	}

	// alerts: one per budget and threshold, each once
	hook.check(t, map[string][]int{guardBlock: {80, 100}, guardLoop: {80, 100}, guardGreedy: {80, 100}})

	// the sidecar stopped: a turn runs, the log says the state is unknown
	if err := d.Stop(); err != nil {
		t.Logf("sidecar stop: %v", err)
	}
	kit.turn(t, home, "x1", "OCT-PLAIN-x1 hello", env, true, true)
	if mock.servedFor("OCT-PLAIN-x1") != 1 {
		t.Errorf("with the sidecar stopped the turn did not reach the mock")
	}
	checkUnknownWarning(t, gwLog)
	checkGuardStats(t, stats)

	// the guard on without conversation access: the turn runs, and the
	// gateway log says once, at start, that the guard cannot act and how
	// to enable it
	setHookAccess(t, home, false)
	before := fileSize(t, gwLog)
	kit.turn(t, home, "x2", "OCT-PLAIN-x2 hello", env, true, true)
	checkNoAccessWarning(t, gwLog, before)
}

// setHookAccess sets the plugin's hooks.allowConversationAccess in home's config.
func setHookAccess(t *testing.T, home string, on bool) {
	t.Helper()
	p := filepath.Join(home, ".openclaw", "openclaw.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["plugins"].(map[string]any)["entries"].(map[string]any)["openclaw-trace"].(map[string]any)["hooks"] = map[string]any{"allowConversationAccess": on}
	if b, err = json.MarshalIndent(cfg, "", " "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// checkNoAccessWarning: the gateway log written after offset has exactly
// one line saying the guard cannot act, with the command that enables it.
func checkNoAccessWarning(t *testing.T, gwLog string, offset int64) {
	t.Helper()
	b, err := os.ReadFile(gwLog)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b[offset:]), "\n") {
		if strings.Contains(l, "but cannot act") {
			lines = append(lines, l)
		}
	}
	const how = "openclaw config set plugins.entries.openclaw-trace.hooks.allowConversationAccess true"
	if len(lines) != 1 || !strings.Contains(lines[0], `guard is \"block\" but cannot act`) && !strings.Contains(lines[0], `guard is "block" but cannot act`) || !strings.Contains(lines[0], how) {
		t.Errorf("%d 'cannot act' lines in the gateway log of a turn without conversation access, want 1 naming %q:\n%s", len(lines), how, strings.Join(lines, "\n"))
	}
}

// callCost is what OpenClaw prices a mock call at (m1: input 3, output 15,
// cache read 0.3 $/M; input excludes the cached tokens).
func callCost(c mockCall) float64 {
	return (float64(c.Prompt-c.Cached)*3 + float64(c.Cached)*0.3 + float64(c.Completion)*15) / 1e6
}

// checkLoop: the loop's calls went on until one crossed loopLimit, then
// exactly one more was made (the one that read the blocked tool call's
// reason). obeys: that call answered text; else it asked for a tool again,
// which ran and ended the loop.
func checkLoop(t *testing.T, mock *mockProvider, marker string, obeys bool) {
	t.Helper()
	var calls []mockCall
	for _, c := range mock.Served() {
		if c.Marker == marker {
			calls = append(calls, c)
		}
	}
	cum, cross := 0.0, -1
	for i, c := range calls {
		cum += callCost(c)
		if cross < 0 && cum >= loopLimit-1e-12 {
			cross = i
		}
	}
	t.Logf("%s: %d calls, spend %.6f, the budget crossed by call %d", marker, len(calls), cum, cross+1)
	if cross < 0 || len(calls) != cross+2 {
		t.Errorf("%s: %d calls, the budget crossed by call %d: want exactly one more call after it", marker, len(calls), cross+1)
		return
	}
	if last := calls[len(calls)-1]; last.Tool == obeys {
		t.Errorf("%s: the call after the crossing one answered a tool call %v, want %v", marker, last.Tool, !obeys)
	}
}

// turnOut runs one turn whose exit status is not asserted (a blocked run
// may fail) and returns stdout and stderr.
func (k *openclawKit) turnOut(t *testing.T, home, session, msg string, env []string, local bool) string {
	t.Helper()
	start := time.Now()
	args := []string{"agent", "--session-id", session, "-m", msg, "--json", "--timeout", "300"}
	if local {
		args = append(args, "--local")
	}
	out, errOut, err := k.run(t, home, 6*time.Minute, env, args...)
	t.Logf("turn %q: %v (exit %v)", msg, time.Since(start).Round(time.Millisecond), err)
	return out + errOut
}

// setPluginOption sets one option of the plugin in home's config.
func setPluginOption(t *testing.T, home, key string, value any) {
	t.Helper()
	p := filepath.Join(home, ".openclaw", "openclaw.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["plugins"].(map[string]any)["entries"].(map[string]any)["openclaw-trace"].(map[string]any)["config"].(map[string]any)[key] = value
	if b, err = json.MarshalIndent(cfg, "", " "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// servedFor counts the calls the mock answered for marker.
func (m *mockProvider) servedFor(marker string) int {
	return len(m.modelsFor(marker))
}

// modelsFor lists the model each call for marker named.
func (m *mockProvider) modelsFor(marker string) []string {
	var ms []string
	for _, c := range m.Served() {
		if c.Marker == marker {
			ms = append(ms, c.Model)
		}
	}
	return ms
}

// alertReceiver is the sidecar's OCT_ALERT_WEBHOOK_URL.
type alertReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []map[string]any
	bads []string
}

func startAlertReceiver(t *testing.T) *alertReceiver {
	a := &alertReceiver{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		a.mu.Lock()
		if err := json.Unmarshal(b, &v); err != nil || v["text"] == nil {
			a.bads = append(a.bads, string(b))
		} else {
			a.got = append(a.got, v)
		}
		a.mu.Unlock()
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// check waits for the alerts want names (budget -> thresholds) and then
// checks that each came exactly once and no other.
func (a *alertReceiver) check(t *testing.T, want map[string][]int) {
	t.Helper()
	count := func() (map[string]int, int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		m := map[string]int{}
		for _, v := range a.got {
			m[fmt.Sprintf("%v@%v", v["budget_id"], v["threshold_pct"])]++
		}
		return m, len(a.got)
	}
	n := 0
	for _, ts := range want {
		n += len(ts)
	}
	poll.Until(t, fmt.Sprintf("%d alert POSTs", n), 30*time.Second, func() bool { _, total := count(); return total >= n })
	// An absence check, not a synchronisation: a duplicate would come
	// within the retry backoff's first step.
	time.Sleep(time.Second)
	got, _ := count()
	var keys []string
	for id, ts := range want {
		for _, p := range ts {
			k := fmt.Sprintf("%s@%d", id, p)
			keys = append(keys, k)
			if got[k] != 1 {
				t.Errorf("alert %s: %d POSTs, want exactly 1 (all: %v)", k, got[k], got)
			}
		}
	}
	sort.Strings(keys)
	if len(got) != len(keys) || len(a.bads) > 0 {
		t.Errorf("alerts: %v (want %v), bodies without text: %q", got, keys, a.bads)
	}
	t.Logf("webhook alerts: %v", got)
}

// checkUnknownWarning: the process that ran with the sidecar down said,
// once, that the budget state is unknown and that it fails open.
func checkUnknownWarning(t *testing.T, gwLog string) {
	t.Helper()
	b, err := os.ReadFile(gwLog)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "budget state unknown") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "failing open") {
		t.Errorf("%d 'budget state unknown' lines in the gateway log, want 1 saying it fails open:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}

// checkGuardStats logs, per plugin process, the guard's hooks inside the
// gateway (calls, mean, median and max µs), its counts, and the time from
// a call's end to the guard counting it: at once (its own accounting) and
// in the sidecar's answer. Figures, not asserted, except that the guard
// blocked a run and two tool calls and ended one loop.
func checkGuardStats(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("plugin stats: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	total := map[string]float64{}
	for n := 1; sc.Scan(); n++ {
		var s struct {
			Hooks map[string]struct {
				N                    int
				MeanUs, P50Us, MaxUs float64
			}
			Guard map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("plugin stats line: %v", err)
		}
		var names []string
		for name := range s.Hooks {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			h := s.Hooks[name]
			t.Logf("guard run, plugin process %d: hook %-22s %4d calls, mean %7.1f µs, median %7.1f µs, max %8.1f µs", n, name, h.N, h.MeanUs, h.P50Us, h.MaxUs)
		}
		if s.Guard == nil {
			continue
		}
		know, _ := s.Guard["know"].(map[string]any)
		delete(s.Guard, "know")
		t.Logf("guard run, plugin process %d: guard %v", n, s.Guard)
		for _, k := range []string{"localMs", "sidecarMs"} {
			if v, ok := know[k].([]any); ok && len(v) > 0 {
				t.Logf("guard run, plugin process %d: call end -> counted (%s): %s", n, k, msStats(v))
			}
		}
		for _, k := range []string{"blocked", "toolBlocked", "loopsEnded", "downgraded"} {
			if v, ok := s.Guard[k].(float64); ok {
				total[k] += v
			}
		}
	}
	if total["blocked"] < 1 || total["toolBlocked"] != 2 || total["loopsEnded"] < 1 || total["downgraded"] != 1 {
		t.Errorf("guard counts over the processes: %v, want a run blocked, 2 tool calls blocked, a loop ended, a run downgraded", total)
	}
}

func msStats(v []any) string {
	var xs []float64
	for _, x := range v {
		if f, ok := x.(float64); ok {
			xs = append(xs, f)
		}
	}
	sort.Float64s(xs)
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return fmt.Sprintf("%d calls, median %.0f ms, mean %.0f ms, max %.0f ms", len(xs), xs[len(xs)/2], sum/float64(len(xs)), xs[len(xs)-1])
}

// needBudgets skips the test on a tree without the sidecar's budgets
// (store/budget); with them, GET /v1/budgets must answer.
func needBudgets(t *testing.T, d *daemon) {
	t.Helper()
	resp, err := http.Get(d.URL("/v1/budgets"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return
	}
	if !exists("../../store/budget") {
		t.Skipf("the sidecar has no budgets yet (GET /v1/budgets: %d, no store/budget)", resp.StatusCode)
	}
	t.Fatalf("GET /v1/budgets: %d", resp.StatusCode)
}
