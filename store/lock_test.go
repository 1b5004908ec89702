package store

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// TestLockHolderProcess is not a test: the lock tests run the test binary
// again with OCT_STORE_LOCK_HOLDER=<db> to hold the database open in a
// process of its own until its stdin closes.
func TestLockHolderProcess(t *testing.T) {
	path := os.Getenv("OCT_STORE_LOCK_HOLDER")
	if path == "" {
		t.Skip("helper process for the lock tests")
	}
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("open\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
	db.Close()
}

// holdInChild opens the database at path in a child process and returns it
// once the database is open.
func holdInChild(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), "OCT_STORE_LOCK_HOLDER="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := reap.Start(t, cmd); err != nil { // killed with the run, however it ends
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "open\n" {
		t.Fatalf("holder did not open the database: %q %v", line, err)
	}
	return cmd
}

// TestLockRefusesASecondWriterProcessNamingThePid: while one process has the
// database open, Open in another fails with a *LockedError that names the
// holder's pid and changes nothing; once the holder is killed (-9: no
// cleanup ran) the lock is gone and Open succeeds.
func TestLockRefusesASecondWriterProcessNamingThePid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	holder := holdInChild(t, path)

	db := NewDB(path)
	err := db.Open()
	var locked *LockedError
	if !errors.As(err, &locked) {
		db.Close()
		t.Fatalf("second Open: %v, want a *LockedError", err)
	}
	if locked.PID != holder.Process.Pid || locked.Path != path {
		t.Errorf("LockedError = %+v, want pid %d and path %s", locked, holder.Process.Pid, path)
	}
	for _, want := range []string{path, "pid " + strconv.Itoa(holder.Process.Pid), path + LockSuffix} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if b, _ := os.ReadFile(path + LockSuffix); strings.TrimSpace(string(b)) != strconv.Itoa(holder.Process.Pid) {
		t.Errorf("lock file holds %q, want the holder's pid", b)
	}

	holder.Process.Signal(syscall.SIGKILL)
	holder.Wait()
	if err := db.Open(); err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Close let go: the next process may open it
	holdInChild(t, path)
}
