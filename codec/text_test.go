package codec

import (
	"strings"
	"testing"
)

func TestCutText(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		limit   int
		want    string
		wantCut bool
	}{
		{"fits", "hello", 5, "hello", false},
		{"ascii", "hello", 3, "hel", true},
		{"two-byte rune straddles", "aé", 2, "a", true},
		{"four-byte rune straddles", "a😀b", 4, "a", true},
		{"four-byte rune ends at limit", "a😀b", 5, "a😀", true},
		{"zero", "abc", 0, "", true},
		{"negative", "abc", -1, "", true},
		// Not UTF-8: at most UTFMax-1 bytes are given back, not the run.
		{"continuation bytes", "\x80\x80\x80\x80\x80\x80", 5, "\x80\x80", true},
	}
	for _, tc := range cases {
		got, cut := CutText(tc.in, tc.limit)
		if got != tc.want || cut != tc.wantCut {
			t.Errorf("%s: CutText(%q, %d) = (%q, %v), want (%q, %v)", tc.name, tc.in, tc.limit, got, cut, tc.want, tc.wantCut)
		}
		b, bcut := CutText([]byte(tc.in), tc.limit)
		if string(b) != tc.want || bcut != tc.wantCut {
			t.Errorf("%s: CutText([]byte) = (%q, %v), want (%q, %v)", tc.name, b, bcut, tc.want, tc.wantCut)
		}
	}
	if got, _ := CutText(strings.Repeat("ü", 100), 51); got != strings.Repeat("ü", 25) {
		t.Errorf("cut %d bytes of ü, want 50", len(got))
	}
}
