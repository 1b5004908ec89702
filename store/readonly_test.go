package store

import (
	"context"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// roDirEnv names, in the child run by TestOpenReadOnlyUnwritableDir, the
// directory holding the copied database.
const roDirEnv = "OCT_TEST_READONLY_DIR"

// TestOpenReadOnlyUnwritableDir: `report` on a copied database (no -wal,
// no -shm) in a directory the user cannot write. Root writes anywhere, so
// as root the test runs itself again as nobody.
func TestOpenReadOnlyUnwritableDir(t *testing.T) {
	if dir := os.Getenv(roDirEnv); dir != "" {
		summariseCopy(t, dir)
		return
	}
	db := readOnlyFixture(t)
	if _, err := db.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	dir := worldDir(t)
	copyFile(t, db.Path, filepath.Join(dir, "copy.db"), 0o444)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		summariseCopy(t, dir)
		return
	}
	bin := filepath.Join(worldDir(t), "store.test")
	copyFile(t, os.Args[0], bin, 0o755)
	cmd := exec.Command(bin, "-test.run", "^TestOpenReadOnlyUnwritableDir$", "-test.v")
	cmd.Env = append(os.Environ(), roDirEnv+"="+dir)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := reap.Start(t, cmd); err != nil {
		// A TMPDIR below a directory nobody may enter, say.
		t.Skipf("cannot run the test binary as nobody: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out.String())
	}
}

// summariseCopy reads the copy as a summary does: through the read pool,
// on more than one connection at once.
func summariseCopy(t *testing.T, dir string) {
	ro, err := OpenReadOnly(filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var calls, failed int64
	conns := make([]*sql.Conn, 2)
	for i := range conns {
		if conns[i], err = ro.Reader().Conn(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	if err := conns[0].QueryRowContext(context.Background(), "SELECT count(*) FROM llm_traces").Scan(&calls); err != nil {
		t.Fatal(err)
	}
	if err := conns[1].QueryRowContext(context.Background(), "SELECT count(*) FROM llm_traces WHERE status != 'ok'").Scan(&failed); err != nil {
		t.Fatal(err)
	}
	if calls != 3 || failed != 1 {
		t.Fatalf("read of the copy: %d calls, %d failed; want 3, 1", calls, failed)
	}
}

// readOnlyFixture is an open database holding three calls, one failed.
func readOnlyFixture(t *testing.T) *DB {
	t.Helper()
	db := MustOpenDB(t)
	failed := traceEvent("gpt-4o")
	failed.Trace.Status = "error"
	writeEvents(t, db, traceEvent("gpt-4o"), traceEvent("gpt-4o-mini"), failed)
	return db
}

func TestOpenReadOnly(t *testing.T) {
	db := readOnlyFixture(t) // still open: the daemon's writer holds it
	ro, err := OpenReadOnly(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var n int
	if err := ro.Reader().QueryRow("SELECT count(*) FROM llm_traces").Scan(&n); err != nil || n != 3 {
		t.Fatalf("read-only: %d rows, %v", n, err)
	}
	if _, err := ro.read.Exec("DELETE FROM llm_traces"); err == nil {
		t.Error("read-only database accepted a write")
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.db")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// worldDir is a temporary directory every user can enter (t.TempDir's are 0700).
func worldDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "oct-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	if err == nil {
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
