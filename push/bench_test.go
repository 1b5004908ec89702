package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store"
)

var backlog = flag.Int("backlog", 0, "TestBacklogMemory: rows to push (0 skips the test)")

// fastReceiver answers 200 after reading the body without keeping it.
func fastReceiver(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			in = zr
		}
		io.Copy(io.Discard, in)
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// fill stores n traces of about 1 KB each.
func fill(tb testing.TB, db *store.DB, n int) {
	text := strings.Repeat("lorem ipsum ", 75) // 900 bytes
	for n > 0 {
		k := min(n, 10000)
		writeEvents(tb, db, traces(k, text)...)
		n -= k
	}
}

// BenchmarkPush measures rows/s pushed to a local receiver (1 KB traces,
// default 5 MB bodies): go test -run '^$' -bench Push -benchtime 20000x ./push/
func BenchmarkPush(b *testing.B) {
	for _, gz := range []bool{true, false} {
		b.Run("gzip="+strconv.FormatBool(gz), func(b *testing.B) {
			db := mustOpenDB(b)
			fill(b, db, b.N)
			srv := fastReceiver(b)
			c := NewClient(srv.URL, db)
			c.HTTPClient, c.Gzip = srv.Client(), gz
			b.ResetTimer()
			res, err := c.PushOnce(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if res.Rows != int64(b.N) {
				b.Fatalf("pushed %d rows, want %d", res.Rows, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(c.WireBytesSent.Load())/float64(c.BytesSent.Load()), "wire/raw")
		})
	}
}

// TestBacklogMemory reports peak Go heap and peak RSS while pushing a
// backlog: go test -run BacklogMemory -backlog 100000 -v ./push/
func TestBacklogMemory(t *testing.T) {
	if *backlog == 0 {
		t.Skip("set -backlog N")
	}
	db := mustOpenDB(t)
	fill(t, db, *backlog)
	srv := fastReceiver(t)
	c := NewClient(srv.URL, db)
	c.HTTPClient = srv.Client()

	debug.FreeOSMemory() // what filling the database left behind
	t.Logf("RSS before the push: %s", rss(t, "VmRSS:"))
	resetPeakRSS(t)
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	start := time.Now()
	res, err := c.PushOnce(context.Background())
	took := time.Since(start)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pushed %d rows in %d bodies, %.1f MB raw, %.1f MB on the wire, in %v (%.0f rows/s)",
		res.Rows, res.Bodies, float64(c.BytesSent.Load())/1e6, float64(c.WireBytesSent.Load())/1e6,
		took.Round(time.Millisecond), float64(res.Rows)/took.Seconds())
	t.Logf("peak Go HeapInuse %.1f MB, peak RSS (VmHWM since reset) %s", float64(peakHeap.Load())/(1<<20), rss(t, "VmHWM:"))
}

// resetPeakRSS resets VmHWM (Linux: writing 5 to clear_refs), so the peak
// covers the push and not the filling of the database.
func resetPeakRSS(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset peak RSS: %v", err)
	}
}

// rss reads one Vm line of /proc/self/status.
func rss(t *testing.T, key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(key)) {
			return strings.Join(strings.Fields(string(line[len(key):])), " ")
		}
	}
	return "unknown"
}
