package main

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// Who may use the daemon's HTTP server, and what the configuration may
// print. Ingest and the read side (/ui, /v1/summary, /health, /metrics)
// are one server: loopback by default; beyond loopback every request needs
// OCT_TOKEN, unless the operator says otherwise out loud.

// loopbackBind reports whether bind listens on loopback only.
func loopbackBind(bind string) bool {
	if strings.EqualFold(bind, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(bind, "[]"))
	return err == nil && ip.IsLoopback()
}

// validateDoors refuses a non-loopback OCT_BIND without OCT_TOKEN, unless
// OCT_ALLOW_UNAUTHENTICATED=true.
func (c *Config) validateDoors() error {
	if !loopbackBind(c.Bind) && c.Token == "" && !c.AllowUnauthenticated {
		return fmt.Errorf("OCT_BIND: invalid value %q: a non-loopback address needs OCT_TOKEN "+
			"(or OCT_ALLOW_UNAUTHENTICATED=true to serve ingest, /ui and the JSON endpoints to anyone who reaches it)", c.Bind)
	}
	for _, h := range c.allowedHosts() {
		if strings.ContainsAny(h, "/ ") {
			return fmt.Errorf("OCT_ALLOWED_HOSTS: invalid value %q: must be host names separated by commas", c.AllowedHosts)
		}
	}
	return nil
}

// allowedHosts is OCT_ALLOWED_HOSTS as a list.
func (c *Config) allowedHosts() []string {
	var out []string
	for h := range strings.SplitSeq(c.AllowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// warnDoors says, at start, that the HTTP server is reachable beyond
// loopback, and how it is guarded.
func (m *Main) warnDoors() {
	c := m.Config
	if loopbackBind(c.Bind) {
		return
	}
	if c.Token != "" {
		m.Logger.Warn("HTTP listens beyond loopback: every request needs OCT_TOKEN", "bind", c.Bind)
		return
	}
	m.Logger.Warn("HTTP listens beyond loopback WITHOUT authentication (OCT_ALLOW_UNAUTHENTICATED=true): "+
		"anyone who reaches it can post events and read the data; set OCT_TOKEN", "bind", c.Bind)
	if u := c.UDPAddr; u != "" {
		if host, _, err := net.SplitHostPort(u); err == nil && !loopbackBind(host) {
			m.Logger.Warn("UDP listens beyond loopback: datagrams carry no token", "udp_addr", u)
		}
	}
}

// isSecret reports whether the variable name may hold a secret (its
// Config field is tagged secret:"true"): its value is never printed.
func isSecret(name string) bool {
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if n, _, _ := strings.Cut(f.Tag.Get("env"), ","); n == name {
			return f.Tag.Get("secret") == "true"
		}
	}
	return false
}

// shown is how an error shows the value of variable name: quoted, a
// secret as *** and a URL without its password.
func shown(name, val string) string {
	switch {
	case isSecret(name):
		return "***"
	}
	return shownURL(val)
}

// shownURL quotes a URL the way the log shows it (redactURL: no user
// information, no query); a value that is no URL is quoted whole, unless
// it has user information.
func shownURL(val string) string {
	switch {
	case strings.Contains(val, "://"):
		val = redactURL(val)
	case strings.Contains(val, "@"):
		return "***"
	}
	return fmt.Sprintf("%q", val)
}

// hideSecrets replaces the value of every secret variable set in lookup
// with *** in msg.
func hideSecrets(msg string, lookup envconfig.Lookuper) string {
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("env"), ",")
		if val, ok := lookup.Lookup(name); ok && val != "" && isSecret(name) {
			msg = strings.ReplaceAll(msg, val, "***")
		}
	}
	return msg
}
