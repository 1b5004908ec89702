// Package reap ends what a test run started, processes and temporary
// files, when the run ends, also when the test binary is killed (SIGKILL,
// Ctrl-C, go test's -timeout), which skips every t.Cleanup.
//
// Watch, first in TestMain, gives the run a directory of its own as
// TMPDIR, so t.TempDir and the temp files of every child are inside it,
// and starts a watchdog: the test binary again, in a process group of its
// own, reading a pipe from the test process. At EOF on the pipe (the test
// process has ended, however it ended) the watchdog kills the process
// groups that Start registered and every process whose environment holds
// the run's TMPDIR (children that left their group), then removes the
// directory. Start runs a child in its own process group with a
// parent-death signal and kills the group in the test's cleanup.
package reap

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// watchdogEnv, in the watchdog's environment, names the run directory.
const watchdogEnv = "OCT_REAP_WATCHDOG"

// Run is a watched test run; its Run method runs the tests (so it can
// stand in for *testing.M, as in goleak.VerifyTestMain(reap.Watch(m))).
type Run struct {
	m     *testing.M
	dir   string // the run's TMPDIR
	outer string // TMPDIR before the run
	dog   *exec.Cmd
}

// Watch starts watching the run. In the watchdog process it does not
// return. If the run cannot be watched (no writable TMPDIR, say, in a
// test binary run as another user) it says so on stderr and the tests
// run unwatched.
func Watch(m *testing.M) *Run {
	if dir := os.Getenv(watchdogEnv); dir != "" {
		os.Exit(watchdog(dir, os.Stdin))
	}
	r := &Run{m: m}
	if err := r.begin(); err != nil {
		fmt.Fprintf(os.Stderr, "reap: this run is not watched: %v\n", err)
	}
	return r
}

// Run runs the tests, then ends the run: the watchdog kills what is
// left and removes the run's directory before Run returns.
func (r *Run) Run() int {
	code := r.m.Run()
	r.end()
	return code
}

func (r *Run) begin() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the test binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "oct-run-")
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil { // the watchdog matches it in environments
		return err
	}
	// Enterable by every user (not writable): a test may run a child as
	// another user in a directory it makes so (store's read-only test).
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return err
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		os.Remove(dir)
		return err
	}
	defer rd.Close()
	dog := exec.Command(self, "-test.run=^$")
	dog.Env = append(os.Environ(), watchdogEnv+"="+dir)
	dog.Stdin, dog.Stderr = rd, os.Stderr
	// Its own group: Ctrl-C (SIGINT to the terminal's foreground group)
	// and a kill of the test's group do not reach it.
	dog.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := dog.Start(); err != nil {
		wr.Close()
		os.Remove(dir)
		return fmt.Errorf("start the watchdog: %w", err)
	}
	r.dir, r.outer, r.dog = dir, os.Getenv("TMPDIR"), dog
	setPipe(wr)
	return os.Setenv("TMPDIR", dir)
}

func (r *Run) end() {
	stopSpawner()
	if r.dog == nil {
		return
	}
	if pipe := setPipe(nil); pipe != nil {
		pipe.Close() // EOF: the watchdog sweeps now
	}
	done := make(chan error, 1)
	go func() { done <- r.dog.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		fmt.Fprintf(os.Stderr, "reap: the watchdog did not finish within 1 min; %s may be left\n", r.dir)
		r.dog.Process.Kill()
		<-done
	}
	os.Setenv("TMPDIR", r.outer)
}

// pipe is the write end to the watchdog, nil when the run is unwatched.
var pipe struct {
	sync.Mutex
	w *os.File
}

// setPipe sets the pipe to the watchdog and returns the previous one.
func setPipe(w *os.File) *os.File {
	pipe.Lock()
	defer pipe.Unlock()
	old := pipe.w
	pipe.w = w
	return old
}

// register tells the watchdog about a process group.
func register(pgid int) {
	pipe.Lock()
	defer pipe.Unlock()
	if pipe.w != nil {
		fmt.Fprintf(pipe.w, "%d\n", pgid)
	}
}
