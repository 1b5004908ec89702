package listener

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
)

// The doors of the HTTP server, checked before any route runs, ingest and
// the read side alike:
//
//   - Host must name this daemon: a loopback name or address, the bind
//     address, an IP address when bound to all of them, or a name in
//     AllowedHosts. A web page on another site can otherwise read the JSON
//     endpoints and post events through DNS rebinding: its name resolves
//     to 127.0.0.1, and the browser sends its own name as Host. (An IP
//     address as Host cannot be rebound: the page would have to come from
//     that address.)
//   - With a Token, every request must carry it: Authorization: Bearer
//     <token>, or Basic with the token as password, which lets a browser
//     open /ui through its own login prompt.

// Refusals counts requests the doors refused, by reason.
type Refusals struct {
	Host  atomic.Int64
	Token atomic.Int64
}

// guard puts the doors in front of next.
func (h *HTTP) guard(next http.Handler) http.Handler {
	bindHost, _, _ := net.SplitHostPort(h.Addr)
	bindIP, _ := netip.ParseAddr(bindHost)
	allowed := make([]string, 0, len(h.AllowedHosts)+1)
	for _, a := range append(slices.Clone(h.AllowedHosts), bindHost) {
		allowed = append(allowed, hostName(a))
	}
	anyIP := bindHost == "" || bindIP.IsUnspecified() || slices.Contains(allowed, "*")
	token := sha256.Sum256([]byte(h.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, bindIP, anyIP, allowed) {
			h.Refused.Host.Add(1)
			WriteJSON(w, http.StatusForbidden, problem{Field: "Host", Error: fmt.Sprintf(
				"host %q is not this daemon's: use 127.0.0.1 or localhost, or add the name to OCT_ALLOWED_HOSTS", r.Host)})
			return
		}
		if h.Token != "" && !tokenMatches(r, token) {
			h.Refused.Token.Add(1)
			w.Header().Set("WWW-Authenticate", `Bearer realm="openclaw-trace", Basic realm="openclaw-trace"`)
			WriteJSON(w, http.StatusUnauthorized, problem{Field: "Authorization",
				Error: "missing or wrong token: send Authorization: Bearer <OCT_TOKEN>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostName is the lower-case name of a Host value, without port, brackets
// or a trailing dot.
func hostName(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
}

func hostAllowed(hostport string, bindIP netip.Addr, anyIP bool, allowed []string) bool {
	if hostport == "" { // HTTP/1.0 without Host: not a browser
		return true
	}
	host := hostName(hostport)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap().WithZone("")
		return ip.IsLoopback() || anyIP || ip == bindIP.Unmap()
	}
	return slices.Contains(allowed, host) || slices.Contains(allowed, "*")
}

// tokenMatches compares the request's token with want (a SHA-256, so the
// comparison takes the same time whatever the lengths).
func tokenMatches(r *http.Request, want [32]byte) bool {
	auth := r.Header.Get("Authorization")
	var got string
	if scheme, rest, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
		got = strings.TrimSpace(rest)
	} else if _, pass, ok := r.BasicAuth(); ok {
		got = pass
	} else {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}
