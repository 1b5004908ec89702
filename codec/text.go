package codec

import "unicode/utf8"

// CutText returns s cut to at most limit bytes without splitting a UTF-8
// sequence, and whether it cut anything. It backs up at most UTFMax-1
// bytes from limit: a string need not be UTF-8 (msgpack's, a log file's
// bytes), and an unbounded walk over a run of continuation bytes would cut
// it to nothing. Every stored text is capped through it.
func CutText[S ~string | ~[]byte](s S, limit int) (S, bool) {
	if len(s) <= limit {
		return s, false
	}
	cut := max(limit, 0)
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut], true
}
