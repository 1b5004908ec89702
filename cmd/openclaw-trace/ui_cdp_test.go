package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// page drives one tab of headless Chromium over the DevTools protocol on
// --remote-debugging-pipe (NUL-terminated JSON messages on the browser's
// fds 3 and 4), so a test can click, press keys, hover, resize the window
// and take screenshots with nothing but the browser and the standard
// library. Calls are synchronous: one command, then read until its answer.
type page struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      *os.File // the browser reads commands from its fd 3
	outF    *os.File // and writes answers and events to its fd 4
	out     *bufio.Reader
	next    int
	session string
	stderr  strings.Builder
	W, H    int
}

// openPage starts Chromium with one blank tab of width × height CSS pixels.
func openPage(t *testing.T, bin string, width, height int) *page {
	t.Helper()
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, in: cmdW, outF: outR, out: bufio.NewReader(outR)}
	p.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	p.cmd.ExtraFiles = []*os.File{cmdR, outW}
	p.cmd.Stderr = &p.stderr
	if err := reap.Start(t, p.cmd); err != nil { // its own process group (zygotes, renderers), killed with the run
		t.Fatal(err)
	}
	cmdR.Close()
	outW.Close()
	t.Cleanup(p.close)
	var targets struct {
		TargetInfos []struct{ TargetID, Type string } `json:"targetInfos"`
	}
	p.call("Target.getTargets", nil, &targets)
	id := ""
	for _, ti := range targets.TargetInfos {
		if ti.Type == "page" {
			id = ti.TargetID
		}
	}
	if id == "" {
		var created struct{ TargetID string }
		p.call("Target.createTarget", map[string]any{"url": "about:blank"}, &created)
		id = created.TargetID
	}
	var att struct{ SessionID string }
	p.call("Target.attachToTarget", map[string]any{"targetId": id, "flatten": true}, &att)
	p.session = att.SessionID
	p.Resize(width, height)
	return p
}

func (p *page) close() {
	p.in.Close() // the browser exits when its command pipe closes
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.outF.Close()
}

// call sends one command to the tab (or to the browser before a tab is
// attached) and decodes its result into res (nil: ignore it).
func (p *page) call(method string, params any, res any) {
	p.t.Helper()
	p.next++
	msg := map[string]any{"id": p.next, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if p.session != "" {
		msg["sessionId"] = p.session
	}
	b, _ := json.Marshal(msg)
	if _, err := p.in.Write(append(b, 0)); err != nil {
		p.t.Fatalf("cdp %s: %v\n%s", method, err, p.stderr.String())
	}
	p.outF.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		line, err := p.out.ReadBytes(0)
		if err != nil {
			p.t.Fatalf("cdp %s: %v\n%s", method, err, p.stderr.String())
		}
		var ans struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line[:len(line)-1], &ans); err != nil {
			p.t.Fatalf("cdp %s: %v", method, err)
		}
		if ans.ID != p.next {
			continue // an event
		}
		if ans.Error != nil {
			p.t.Fatalf("cdp %s: %s", method, ans.Error.Message)
		}
		if res != nil {
			if err := json.Unmarshal(ans.Result, res); err != nil {
				p.t.Fatalf("cdp %s result: %v", method, err)
			}
		}
		return
	}
}

// Resize sets the viewport to width × height CSS pixels.
func (p *page) Resize(width, height int) {
	p.t.Helper()
	p.W, p.H = width, height
	p.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
}

// Go loads url.
func (p *page) Go(url string) {
	p.t.Helper()
	p.call("Page.navigate", map[string]any{"url": url}, nil)
}

// Eval runs the JavaScript expression in the page (awaiting a promise) and
// decodes its JSON value into res. DevTools evaluation is not bound by the
// page's CSP; the page's own script still is.
func (p *page) Eval(expr string, res any) {
	p.t.Helper()
	var ans struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &ans)
	if ans.Exception != nil {
		p.t.Fatalf("eval %s: %s %s", expr, ans.Exception.Text, ans.Exception.Exception.Description)
	}
	if res != nil {
		if err := json.Unmarshal(ans.Result.Value, res); err != nil {
			p.t.Fatalf("eval %s: %v (%s)", expr, err, ans.Result.Value)
		}
	}
}

// Wait polls the expression until it is true (poll.Until).
func (p *page) Wait(what, expr string) {
	p.t.Helper()
	seen := false
	defer func() {
		if !seen { // poll.Until failed the test: show what the page says
			var body string
			p.Eval("document.body.innerText", &body)
			p.t.Logf("page text:\n%s", body)
		}
	}()
	poll.Until(p.t, what, 20*time.Second, func() bool {
		var ok bool
		p.Eval("!!("+expr+")", &ok)
		return ok
	})
	seen = true
}

// Text is the textContent of the first element matching selector.
func (p *page) Text(selector string) string {
	p.t.Helper()
	var s *string
	p.Eval(fmt.Sprintf("document.querySelector(%q)?.textContent ?? null", selector), &s)
	if s == nil {
		p.t.Fatalf("no element %s", selector)
	}
	return *s
}

// Rows returns the cell texts of the rows matching selector.
func (p *page) Rows(selector string) [][]string {
	p.t.Helper()
	var rows [][]string
	p.Eval(fmt.Sprintf("[...document.querySelectorAll(%q)].map((tr) => [...tr.cells].map((td) => td.textContent))", selector), &rows)
	return rows
}

// center scrolls the element into view and returns its centre.
func (p *page) center(selector string) (x, y float64) {
	p.t.Helper()
	var r *struct{ X, Y float64 }
	p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return null; e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`, selector), &r)
	if r == nil {
		p.t.Fatalf("no element %s to point at", selector)
	}
	return r.X, r.Y
}

// Click moves the mouse onto the element and clicks it, as a user does.
func (p *page) Click(selector string) {
	p.t.Helper()
	x, y := p.center(selector)
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p.call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1}, nil)
	}
}

// Hover moves the mouse onto the element.
func (p *page) Hover(selector string) {
	p.t.Helper()
	x, y := p.center(selector)
	p.call("Input.dispatchMouseEvent", map[string]any{"type": "mouseMoved", "x": x, "y": y}, nil)
}

// Key presses and releases a key: "Tab", "ArrowLeft", "ArrowRight", "Home", "End", "Enter".
func (p *page) Key(key string) {
	p.t.Helper()
	codes := map[string]int{"Tab": 9, "Enter": 13, "End": 35, "Home": 36, "ArrowLeft": 37, "ArrowRight": 39}
	down := map[string]any{"type": "rawKeyDown", "key": key, "code": key, "windowsVirtualKeyCode": codes[key]}
	if key == "Enter" {
		down["type"], down["text"] = "keyDown", "\r"
	}
	p.call("Input.dispatchKeyEvent", down, nil)
	p.call("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": codes[key]}, nil)
}

// Screenshot saves the page, its whole height up to maxHeight, as a PNG.
func (p *page) Screenshot(path string, maxHeight int) {
	p.t.Helper()
	var h float64
	p.Eval("document.documentElement.scrollHeight", &h)
	h = min(h, float64(maxHeight))
	var shot struct{ Data string }
	p.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": p.W, "height": h, "scale": 1}}, &shot)
	b, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
