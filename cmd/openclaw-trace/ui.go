package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
)

// uiPage is the dashboard: one HTML file with its CSS, JS and SVG inline,
// drawn from GET /v1/summary.
//
//go:embed ui/index.html
var uiPage []byte

// uiCSP lets the page run its own inline script (by its hash, so a handler
// attribute smuggled in through a model name or error message cannot run
// even if escaping missed it) and style, and fetch from this daemon only:
// no CDN, font or image from anywhere else. No other page may frame it
// (clickjacking).
var uiCSP = "default-src 'none'; script-src '" + scriptHash(uiPage) + "'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// scriptHash is the CSP source of page's one inline <script>.
func scriptHash(page []byte) string {
	_, rest, ok := bytes.Cut(page, []byte("<script>"))
	body, _, ok2 := bytes.Cut(rest, []byte("</script>"))
	if !ok || !ok2 {
		panic("ui/index.html has no <script> element")
	}
	sum := sha256.Sum256(body)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func uiHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY") // and frame-ancestors: no page may frame the dashboard
		h.Set("Cache-Control", "no-cache")
		w.Write(uiPage)
	})
}
