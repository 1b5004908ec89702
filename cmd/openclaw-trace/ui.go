package main

import (
	_ "embed"
	"net/http"
)

// uiPage is the dashboard: one HTML file with its CSS, JS and SVG inline,
// drawn from GET /v1/summary.
//
//go:embed ui/index.html
var uiPage []byte

// uiCSP lets the page run its own inline script and style and fetch from
// this daemon only: no CDN, font or image from anywhere else.
const uiCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"

func uiHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		w.Write(uiPage)
	})
}
