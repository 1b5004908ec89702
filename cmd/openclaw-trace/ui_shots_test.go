package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

var (
	uiScreenshot = flag.String("ui.screenshot", "", "also save a 1280 px wide screenshot of /ui with a day of traffic to this PNG file (README's docs/ui.png)")
	uiNarrow     = flag.String("ui.narrow", "", "also save a 400 px wide screenshot of /ui to this PNG file (docs/ui-narrow.png)")
)

func absPath(t *testing.T, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// screenshotUI adds a day of traffic to d (agents, channels, triggers, a
// cron job, sessions) and saves the page wide and narrow for the README,
// behind a proxy that adds /v1/budgets answers computed from the same
// calls (the daemon of this branch has no budgets yet).
func screenshotUI(t *testing.T, bin string, d *daemon) {
	now := time.Now()
	var hist []string
	add := func(at time.Time, model string, in, out int, agent, channel, trigger, session string, status string) {
		hist = append(hist, fmt.Sprintf(`{"provider":"anthropic","model":%q,"prompt_tokens":%d,"completion_tokens":%d,"latency_ms":%d,"ttft_ms":%d,"ts":%d,
			"status":%q,"agent_id":%q,"channel":%q,"trigger":%q,"session_key":%q,"cron_job_id":%q}`, model, in, out, 900+in/20, 250+out/4,
			at.UnixMilli(), status, agent, channel, trigger, session, map[bool]string{true: "nightly-digest"}[trigger == "cron"]))
	}
	for i := 1; i < 48; i++ {
		at := now.Add(-time.Duration(i) * 30 * time.Minute)
		if i%2 == 0 {
			add(at.Add(-7*time.Minute), "claude-haiku-4-5", 8000, 40, "main", "telegram", "heartbeat", "agent:main:main", "ok")
		}
		for j := 0; j < (i*7)%5; j++ {
			ch, who := "telegram", "1001"
			if (i+j)%3 == 0 {
				ch, who = "discord", "guild-42"
			}
			add(at.Add(-time.Duration(j)*3*time.Minute), "claude-sonnet-4", 6000+i*300, 300+j*90, "main", ch, "user",
				"agent:main:"+ch+":direct:"+who, map[bool]string{true: "timeout", false: "ok"}[(i+j)%13 == 0])
		}
	}
	for _, h := range []int{21, 22} {
		add(now.Add(-time.Duration(h)*time.Hour), "claude-opus-4", 60000, 4000, "ops", "", "cron", "cron:nightly-digest", "ok")
	}
	before := d.Health()["counters"].(map[string]any)["written"].(float64)
	post(t, d.URL("/v1/traces"), "application/json", []byte("["+strings.Join(hist, ",")+"]"))
	poll.Until(t, "history written", 30*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == before+float64(len(hist))
	})
	srv := budgetProxy(t, d, now)
	p := openPage(t, bin, 1280, 900)
	if *uiScreenshot != "" {
		loadUI(t, p, srv.URL+"/ui")
		p.Screenshot(absPath(t, *uiScreenshot), 3000)
	}
	if *uiNarrow != "" {
		p.Resize(400, 800)
		loadUI(t, p, srv.URL+"/ui")
		p.Screenshot(absPath(t, *uiNarrow), 3200)
	}
}

// budgetProxy serves d behind a proxy that answers /v1/budgets with three
// day budgets and a month one, spent as d's calls of the last 24 h say.
func budgetProxy(t *testing.T, d *daemon, now time.Time) *httptest.Server {
	target, _ := url.Parse(d.URL(""))
	proxy := httputil.NewSingleHostReverseProxy(target)
	spent := func(by, key string) (float64, int64) {
		_, doc := fetchJSON(t, d.URL("/v1/breakdown?since=24h&by="+by))
		for _, g := range doc["breakdown"].(map[string]any)["groups"].([]any) {
			g := g.(map[string]any)
			if keys, _ := g["keys"].(map[string]any); g["key"] == key || keys[by] == key {
				c, _ := g["cost_usd"].(float64)
				return c, int64(g["unpriced_calls"].(float64))
			}
		}
		return 0, 0
	}
	day := now.UTC().Truncate(24 * time.Hour)
	month := time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	budget := func(scope, by, key, window string, limit float64, end time.Time) map[string]any {
		s, unpriced := spent(by, key)
		state := map[bool]string{true: "ok"}[s < 0.8*limit]
		if state == "" {
			state = map[bool]string{true: "warn", false: "over"}[s < limit]
		}
		return map[string]any{"id": scope + ":" + fmt.Sprint(limit) + "usd/" + window, "scope": scope, "window": window, "window_end": end.UnixMilli(),
			"limit_usd": limit, "spent_usd": s, "unpriced_calls": unpriced, "state": state}
	}
	doc, _ := json.Marshal(map[string]any{"budgets": []any{
		budget("all", "day", day.Format("2006-01-02"), "day", 10, day.Add(24*time.Hour)),
		budget("agent=main", "agent", "main", "day", 5, day.Add(24*time.Hour)),
		budget("trigger=heartbeat", "trigger", "heartbeat", "day", 0.15, day.Add(24*time.Hour)),
		budget("model=anthropic/claude-opus-4", "model", "claude-opus-4", "month", 50, month),
	}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/budgets" {
			w.Header().Set("Content-Type", "application/json")
			w.Write(doc)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}
