package logtail

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// BenchmarkFollow measures read + parse + send from a real file, in lines/s:
// each iteration starts a new Follower on the same 10,000-line file.
func BenchmarkFollow(b *testing.B) {
	const n = 10000
	path := join(b.TempDir(), "openclaw.log")
	var sb strings.Builder
	for range n {
		sb.WriteString(line("telegram sendMessage ok chat=569065324 message=30823"))
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	ch := make(chan codec.Event, n)
	b.ReportAllocs()
	for b.Loop() {
		f := NewFollower(path, chanSink(ch))
		if err := f.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
		for range len(ch) {
			<-ch
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
}
