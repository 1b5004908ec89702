package listener

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// The Host of every request must name this daemon. A foreign name was
// served (DNS rebinding: curl -H 'Host: evil.example' 127.0.0.1:PORT/v1/summary
// answered 200, and a POST to /v1/traces 202).
func TestHTTPHostMustBeOurs(t *testing.T) {
	tests := []struct {
		bind    string
		allowed []string
		host    string
		ok      bool
	}{
		{"127.0.0.1:0", nil, "127.0.0.1:9090", true},
		{"127.0.0.1:0", nil, "localhost:9090", true},
		{"127.0.0.1:0", nil, "LOCALHOST.", true},
		{"127.0.0.1:0", nil, "app.localhost", true},
		{"127.0.0.1:0", nil, "[::1]:9090", true},
		{"127.0.0.1:0", nil, "127.0.0.2", true},
		{"127.0.0.1:0", nil, "evil.example", false},
		{"127.0.0.1:0", nil, "evil.example:9090", false},
		{"127.0.0.1:0", nil, "localhost.evil.example", false},
		{"127.0.0.1:0", nil, "10.0.0.5", false},
		{"127.0.0.1:0", []string{"sidecar.internal"}, "sidecar.internal:9090", true},
		{"127.0.0.1:0", []string{"sidecar.internal"}, "other.internal", false},
		{"127.0.0.1:0", []string{"*"}, "anything.example", true},
		{"0.0.0.0:0", nil, "10.0.0.5:9090", true}, // an address cannot be rebound
		{"0.0.0.0:0", nil, "[fd00::5]:9090", true},
		{"0.0.0.0:0", nil, "evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.bind+" "+tt.host, func(t *testing.T) {
			h := NewHTTP(tt.bind, codec.NewQueue(10), codec.NewParser())
			h.AllowedHosts = tt.allowed
			h.Handle("GET /v1/summary", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
			url := serve(t, h)
			url = strings.Replace(url, "0.0.0.0", "127.0.0.1", 1)
			for _, req := range []*http.Request{
				mustRequest(t, http.MethodGet, url+"/v1/summary", ""),
				mustRequest(t, http.MethodPost, url+"/v1/traces", `{"provider":"p","model":"m"}`),
			} {
				req.Host = tt.host
				a := do(t, req)
				if ok := a.status < 400; ok != tt.ok {
					t.Errorf("%s %s with Host %q: %d %v, want allowed %v", req.Method, req.URL.Path, tt.host, a.status, a.body, tt.ok)
				}
				if !tt.ok && (a.status != http.StatusForbidden || a.body["field"] != "Host") {
					t.Errorf("refusal %d %v, want 403 naming Host", a.status, a.body)
				}
			}
			if want := map[bool]int64{true: 0, false: 2}[tt.ok]; h.Refused.Host.Load() != want {
				t.Errorf("refused host = %d, want %d", h.Refused.Host.Load(), want)
			}
		})
	}
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", ctJSON)
	}
	return req
}

// With a token, every route needs it: Bearer, or Basic with the token as
// password (a browser's own prompt, for /ui).
func TestHTTPTokenOnEveryRoute(t *testing.T) {
	h := NewHTTP("127.0.0.1:0", codec.NewQueue(10), codec.NewParser())
	h.Token = "s3cret-t0ken"
	h.Handle("GET /ui", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	h.Handle("GET /health", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	url := serve(t, h)
	auths := []struct {
		name string
		set  func(*http.Request)
		ok   bool
	}{
		{"none", func(*http.Request) {}, false},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret-t0kem") }, false},
		{"a prefix of it", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, false},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret-t0ken") }, true},
		{"lower-case scheme", func(r *http.Request) { r.Header.Set("Authorization", "bearer s3cret-t0ken") }, true},
		{"basic", func(r *http.Request) { r.SetBasicAuth("anyone", "s3cret-t0ken") }, true},
		{"basic, wrong", func(r *http.Request) { r.SetBasicAuth("s3cret-t0ken", "x") }, false},
	}
	var refused int64
	for _, route := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/traces", `{"provider":"p","model":"m"}`},
		{http.MethodGet, "/ui", ""},
		{http.MethodGet, "/health", ""},
	} {
		for _, a := range auths {
			req := mustRequest(t, route.method, url+route.path, route.body)
			a.set(req)
			got := do(t, req)
			if ok := got.status < 400; ok != a.ok {
				t.Errorf("%s %s, %s: %d, want allowed %v", route.method, route.path, a.name, got.status, a.ok)
			}
			if !a.ok {
				refused++
				if got.status != http.StatusUnauthorized || !strings.Contains(got.header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("%s %s, %s: %d %v, want 401 offering Basic", route.method, route.path, a.name, got.status, got.header)
				}
			}
		}
	}
	if h.Refused.Token.Load() != refused {
		t.Errorf("refused token = %d, want %d", h.Refused.Token.Load(), refused)
	}
}
