package logtail

import "testing"

func TestLevelAllows(t *testing.T) {
	tests := []struct {
		min  string
		line string
		want bool
	}{
		{"info", "debug", false},
		{"info", "trace", false},
		{"info", "info", true},
		{"info", "error", true},
		{"warn", "info", false},
		{"error", "fatal", true},
		{"debug", "debug", true},
		{"error", "", true},        // no level: never skipped
		{"error", "verbose", true}, // unknown level: never skipped
	}
	for _, tt := range tests {
		min, err := ParseLevel(tt.min)
		if err != nil {
			t.Fatal(err)
		}
		if got := min.Allows(tt.line); got != tt.want {
			t.Errorf("%s.Allows(%q) = %v, want %v", tt.min, tt.line, got, tt.want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud): no error")
	}
}
