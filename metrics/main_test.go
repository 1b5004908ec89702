package metrics

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/reap"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(reap.Watch(m))
}

// copyTree copies a fixture tree (with its symlinks, such as proc/self) into
// a temp dir so a test can advance its counters.
func copyTree(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dst
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// fakeClock advances only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// fixtureSampler points a Sampler at a fixture tree under root, with a
// fixed disk and a fake clock.
func fixtureSampler(root string) (*Sampler, *fakeClock) {
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	s := NewSampler(nil)
	s.ProcRoot = filepath.Join(root, "proc")
	s.CgroupRoot = filepath.Join(root, "sys/fs/cgroup")
	s.Now = clk.Now
	s.DiskPath = "/data"
	s.DiskUsage = func(string) (DiskUsage, error) {
		return DiskUsage{Total: 1000, Used: 600, Free: 200}, nil
	}
	return s, clk
}
