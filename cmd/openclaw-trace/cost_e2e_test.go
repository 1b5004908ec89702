package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/openclaw/openclaw-trace/codec/price"
	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPricesFile(t *testing.T) {
	good := writeFile(t, "good.json", `{"models":[{"provider":"ollama","model":"llama3","input_mtok":1}]}`)
	if _, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{"OCT_PRICES_FILE": good})); err != nil {
		t.Fatalf("good file: %v", err)
	}
	cases := []struct{ name, path, want string }{
		{"missing", filepath.Join(t.TempDir(), "nope.json"), "no such file"},
		{"not json", writeFile(t, "a.json", `prices!`), "parse"},
		{"bad entry", writeFile(t, "b.json", `{"models":[{"provider":"p","model":"m","output_mtok":-2}]}`), "models[0].output_mtok"},
	}
	for _, tc := range cases {
		_, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{"OCT_PRICES_FILE": tc.path}))
		if err == nil || !strings.HasPrefix(err.Error(), "OCT_PRICES_FILE: ") || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), tc.path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestBadPricesFileExits2 runs the real binary with a bad OCT_PRICES_FILE.
func TestBadPricesFileExits2(t *testing.T) {
	cmd := exec.Command(binPath)
	cmd.Env = []string{"OCT_PRICES_FILE=" + writeFile(t, "bad.json", `{"models":[{"model":"m"}]}`), "OCT_DB_PATH=" + filepath.Join(t.TempDir(), "x.db")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := reap.Exec(t, cmd)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v", err)
	}
	if s := stderr.String(); !strings.Contains(s, "OCT_PRICES_FILE") || !strings.Contains(s, "models[0].provider") {
		t.Fatalf("stderr: %q", s)
	}
}

// TestEndToEndCost posts traces to the real binary: a supplied cost is
// kept, a known model is priced from the table with cached tokens charged
// once, an override prices a self-hosted model, and an unknown model is
// stored with NULL cost and counted on /metrics.
func TestEndToEndCost(t *testing.T) {
	prices := writeFile(t, "prices.json", `{"version":"site-1","models":[{"provider":"ollama","model":"llama3.1:8b","input_mtok":0.1,"output_mtok":0.2}]}`)
	d := startDaemon(t, "", "OCT_PRICES_FILE="+prices)
	code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(`[
		{"provider":"openai","model":"gpt-4o","prompt_tokens":1000,"completion_tokens":100,"cost_usd":0.5},
		{"provider":"openclaw","model":"openai/gpt-4o-2024-08-06","prompt_tokens":1000,"cache_read_tokens":400,"completion_tokens":100},
		{"provider":"ollama","model":"llama3.1:8b","prompt_tokens":1000000,"completion_tokens":1000000},
		{"provider":"ollama","model":"qwen-local","prompt_tokens":10,"completion_tokens":10},
		{"provider":"ollama","model":"qwen-local","prompt_tokens":10}]`))
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, out)
	}
	poll.Until(t, "5 traces written", 10*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 5.0
	})
	db := openDB(t, d.DBPath)
	rows, err := db.Query("SELECT model, cost_usd, cost_source, coalesce(price_version, '') FROM llm_traces ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	table, err := price.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		cost            *float64
		source, version string
	}{
		{ptrF(0.5), "supplied", ""},
		{ptrF((600*2.5 + 400*1.25 + 100*10) / 1e6), "table", table.Version},
		{ptrF(0.3), "table", "site-1"},
		{nil, "unpriced", ""},
		{nil, "unpriced", ""},
	}
	i := 0
	for ; rows.Next(); i++ {
		var model, source, version string
		var cost *float64
		if err := rows.Scan(&model, &cost, &source, &version); err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if (cost == nil) != (w.cost == nil) || (cost != nil && math.Abs(*cost-*w.cost) > 1e-12) || source != w.source || version != w.version {
			t.Errorf("row %d %s: cost %v %s %q, want %v %s %q", i, model, deref(cost), source, version, deref(w.cost), w.source, w.version)
		}
	}
	if i != len(want) {
		t.Fatalf("%d rows", i)
	}
	resp, err := http.Get(d.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if line := `openclaw_trace_traces_unpriced_total{provider="ollama",model="qwen-local"} 2`; !strings.Contains(string(body), line+"\n") {
		t.Errorf("/metrics lacks %q:\n%s", line, body)
	}
}

func ptrF(f float64) *float64 { return &f }

func deref(f *float64) any {
	if f == nil {
		return "NULL"
	}
	return *f
}

// TestReportBesideRunningDaemon runs the real `report --json` while the
// daemon that writes the database runs: read-only beside the writer, and
// the drop counters fetched from the daemon's /health.
func TestReportBesideRunningDaemon(t *testing.T) {
	d := startDaemon(t, "")
	post(t, d.URL("/v1/traces"), "application/json", []byte(`[{"provider":"openai","model":"gpt-4o","prompt_tokens":1000,"completion_tokens":100},
		{"provider":"ollama","model":"qwen","prompt_tokens":5}]`))
	post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"openai"}`)) // invalid: one drop
	poll.Until(t, "2 traces written", 10*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 2.0
	})
	host, port, _ := strings.Cut(d.Addr, ":")
	cmd := exec.Command(binPath, "report", "--json", "--since", "1h")
	cmd.Env = []string{"OCT_DB_PATH=" + d.DBPath, "OCT_BIND=" + host, "OCT_PORT=" + port}
	out, err := output(t, cmd)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	var doc summaryDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	tot := doc.Summary.Totals
	if tot.Calls != 2 || tot.UnpricedCalls != 1 || tot.CostUSD == nil || math.Abs(*tot.CostUSD-0.0035) > 1e-12 {
		t.Errorf("totals %+v", tot)
	}
	if !doc.Daemon.Reachable || doc.Daemon.Dropped != 1 || doc.Daemon.DroppedByReason["invalid"] != 1 || doc.Daemon.Written != 2 {
		t.Errorf("daemon %+v", doc.Daemon)
	}
	// The daemon still writes after the report.
	post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"openai","model":"gpt-4o"}`))
	poll.Until(t, "3rd trace written", 10*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 3.0
	})
	if err := d.Stop(); err != nil {
		t.Fatalf("daemon exit: %v", err)
	}
}
