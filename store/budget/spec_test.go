package budget

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	specs, err := Parse(" 5usd/day; agent=main:2usd/day; trigger=heartbeat:0.50usd/day;" +
		"model=anthropic/claude-opus-4:50usd/month ;channel=telegram:1USD/Week; cron=nightly-digest:0.000000001usd/day;" +
		"session=agent:main:telegram:direct:1001:3usd/day;;")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, scope string
		kind      Kind
		value     string
		window    Window
		limit     int64
	}
	want := []row{
		{"all/day", "all", All, "", Day, 5e9},
		{"agent=main/day", "agent=main", Agent, "main", Day, 2e9},
		{"trigger=heartbeat/day", "trigger=heartbeat", Trigger, "heartbeat", Day, 5e8},
		{"model=anthropic/claude-opus-4/month", "model=anthropic/claude-opus-4", Model, "anthropic/claude-opus-4", Month, 50e9},
		{"channel=telegram/week", "channel=telegram", Channel, "telegram", Week, 1e9},
		{"cron=nightly-digest/day", "cron=nightly-digest", Cron, "nightly-digest", Day, 1},
		// A session key holds ':': the last one ends the scope.
		{"session=agent:main:telegram:direct:1001/day", "session=agent:main:telegram:direct:1001", Session,
			"agent:main:telegram:direct:1001", Day, 3e9},
	}
	var got []row
	for _, s := range specs {
		got = append(got, row{s.ID, s.Scope(), s.Kind, s.Value, s.Window, s.Limit})
	}
	if !slices.Equal(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
	if none, err := Parse(" ; "); err != nil || len(none) != 0 {
		t.Errorf("Parse(empty) = %v, %v", none, err)
	}
}

// Every error names the budget (its position and text) and says what is
// wrong with it.
func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"5usd/day; agent=main:2usd/dya", `budget 2 "agent=main:2usd/dya": unknown window "dya": want day, week or month`},
		{"5/day", `budget 1 "5/day": amount "5": want a number of US dollars ending in usd`},
		{"5eur/day", `budget 1 "5eur/day": amount "5eur"`},
		{"-1usd/day", `budget 1 "-1usd/day": amount "-1usd"`},
		{"0usd/day", `budget 1 "0usd/day": amount "0usd": must be more than 0`},
		{"0.0000000001usd/day", `at most 9 decimals`},
		{"1000001usd/month", `at most 1000000usd`},
		{"5usd", `budget 1 "5usd": want [SCOPE=VALUE:]AMOUNTusd/WINDOW: no /WINDOW`},
		{"agent=main 2usd/day", `budget 1 "agent=main 2usd/day": want [SCOPE=VALUE:]AMOUNTusd/WINDOW: a scope needs ':'`},
		{"user=bob:1usd/day", `budget 1 "user=bob:1usd/day": unknown scope "user": want one of agent, channel, trigger, model, cron, session`},
		{"agent=:1usd/day", `budget 1 "agent=:1usd/day": scope agent has no value`},
		{"main:1usd/day", `budget 1 "main:1usd/day": scope "main": want SCOPE=VALUE`},
		{"model=claude-opus-4:1usd/day", `budget 1 "model=claude-opus-4:1usd/day": model "claude-opus-4": want provider/model`},
		{"1usd/day; 2usd/day", `budget 2 "2usd/day": same scope and window as "1usd/day"`},
		{"1usd/day; x", `budget 2 "x": `},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): error on more than one line: %q", tt.in, err)
		}
	}
}

func TestParseWarn(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  string
	}{
		{"80%", []int{80}, ""},
		{"80%, 50%,80", []int{50, 80}, ""},
		{"none", nil, ""},
		{"100%", nil, `threshold "100%"`},
		{"0%", nil, `threshold "0%"`},
		{"eighty", nil, `threshold "eighty": want a percentage`},
		{"1,2,3,4,5,6,7,8,9,10,11", nil, "at most 10"},
	}
	for _, tt := range tests {
		got, err := ParseWarn(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseWarn(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseWarn(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
