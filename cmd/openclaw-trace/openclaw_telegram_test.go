package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// mockTelegram is a Telegram Bot API on loopback for the gateway's bundled
// telegram channel (channels.telegram.apiRoot): the one offline way found to
// drive a real inbound message through a channel, so that the gateway fires
// message_received and, on delivering the reply, message_sent. (A turn from
// `openclaw agent` fires neither; `chat.send` fires message_received only.)
// getUpdates long-polls and hands out one private message after Deliver;
// sendMessage answers with message ids from 500.
type mockTelegram struct {
	srv  *httptest.Server
	mu   sync.Mutex
	text string // the message to hand out; "" when none is waiting
	next int    // next update_id
	sent []string
}

// Telegram identities in the mock's updates, asserted in the sidecar's rows.
const (
	tgChat      = 1001
	tgMessageID = 42
	tgFirstSent = 500
)

func startMockTelegram(t *testing.T) *mockTelegram {
	m := &mockTelegram{next: 1}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

// Channel is the channels.telegram config block pointing at the mock.
func (m *mockTelegram) Channel() map[string]any {
	return map[string]any{"enabled": true, "botToken": "123456:mock", "apiRoot": m.srv.URL, "dmPolicy": "open", "allowFrom": []string{"*"}}
}

// Deliver queues one private message for the next getUpdates.
func (m *mockTelegram) Deliver(text string) {
	m.mu.Lock()
	m.text = text
	m.mu.Unlock()
}

// Sent returns the texts of the sendMessage calls so far.
func (m *mockTelegram) Sent() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

// WaitSent waits until n messages were sent (the reply has been delivered).
func (m *mockTelegram) WaitSent(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(m.Sent()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("telegram mock: %d messages sent within %v, want %d", len(m.Sent()), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *mockTelegram) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	now := time.Now().Unix()
	var result any = true
	switch method {
	case "getMe":
		result = map[string]any{"id": 777, "is_bot": true, "first_name": "MockBot", "username": "mock_bot"}
	case "getWebhookInfo":
		result = map[string]any{"url": "", "pending_update_count": 0}
	case "getUpdates":
		result = m.updates(r, now)
	case "sendMessage":
		var req struct {
			Text string `json:"text"`
		}
		json.Unmarshal(body, &req)
		m.mu.Lock()
		id := tgFirstSent + len(m.sent)
		m.sent = append(m.sent, req.Text)
		m.mu.Unlock()
		result = map[string]any{"message_id": id, "date": now, "chat": map[string]any{"id": tgChat, "type": "private"},
			"from": map[string]any{"id": 777, "is_bot": true, "first_name": "MockBot"}, "text": req.Text}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// updates long-polls up to 2 s for the queued message.
func (m *mockTelegram) updates(r *http.Request, now int64) []any {
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		m.mu.Lock()
		if text := m.text; text != "" {
			id := m.next
			m.text = ""
			m.next++
			m.mu.Unlock()
			from := map[string]any{"id": tgChat, "is_bot": false, "first_name": "Ann", "username": "ann"}
			return []any{map[string]any{"update_id": id, "message": map[string]any{"message_id": tgMessageID, "date": now,
				"chat": map[string]any{"id": tgChat, "type": "private", "first_name": "Ann"}, "from": from, "text": text}}}
		}
		m.mu.Unlock()
		select {
		case <-r.Context().Done():
			return []any{}
		case <-time.After(50 * time.Millisecond):
		}
	}
	return []any{}
}

// checkChannelEvents: the Telegram DM gave one channel_in and one
// channel_out log event with the ids the mock Bot API used (and the CLI
// turns none), and its model call's trace carries the channel.
func checkChannelEvents(t *testing.T, db *sql.DB, row traceRow, sent []string) {
	t.Helper()
	key := fmt.Sprintf("agent:main:telegram:direct:%d", tgChat)
	if row.Channel.String != "telegram" || row.SessionKey.String != key {
		t.Errorf("telegram call's trace: channel %v session_key %v, want telegram %s", row.Channel, row.SessionKey, key)
	}
	if len(sent) != 1 {
		t.Errorf("telegram mock: sent %q, want one reply", sent)
	}
	peer := fmt.Sprintf("telegram:%d", tgChat)
	want := []string{
		fmt.Sprintf("channel_in telegram gateway/channels/telegram info agent=main account=default conversation=%s sender=%d from=%s to= message=%d success=<nil> session=%s", peer, tgChat, peer, tgMessageID, key),
		fmt.Sprintf("channel_out telegram gateway/channels/telegram info agent=main account=default conversation=%s sender= from= to=%s message=%d success=true session=%s", peer, peer, tgFirstSent, key),
	}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = channelEvents(t, db)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("channel log events:\n got %q\nwant %q", got, want)
	}
}

func channelEvents(t *testing.T, db *sql.DB) []string {
	q, err := db.Query(`SELECT kind, coalesce(channel, ''), coalesce(subsystem, ''), coalesce(level, ''), coalesce(metadata, '{}')
		FROM log_events WHERE kind IN ('channel_in', 'channel_out') ORDER BY id`)
	if err != nil {
		t.Fatalf("channel events: %v", err)
	}
	defer q.Close()
	var out []string
	for q.Next() {
		var kind, channel, subsystem, level, meta string
		if err := q.Scan(&kind, &channel, &subsystem, &level, &meta); err != nil {
			t.Fatal(err)
		}
		var m struct {
			Agent        string `json:"agent_id"`
			Account      string `json:"account_id"`
			Conversation string `json:"conversation_id"`
			Sender       string `json:"sender_id"`
			From, To     string
			Message      string `json:"message_id"`
			Success      *bool  `json:"success"`
			Session      string `json:"session_key"`
		}
		json.Unmarshal([]byte(meta), &m)
		success := "<nil>"
		if m.Success != nil {
			success = fmt.Sprint(*m.Success)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s agent=%s account=%s conversation=%s sender=%s from=%s to=%s message=%s success=%s session=%s",
			kind, channel, subsystem, level, m.Agent, m.Account, m.Conversation, m.Sender, m.From, m.To, m.Message, success, m.Session))
	}
	return out
}
