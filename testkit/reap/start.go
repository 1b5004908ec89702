package reap

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultWaitDelay bounds cmd.Wait once the process has exited (or its
// context is done) while a grandchild still holds its output pipes.
const DefaultWaitDelay = 10 * time.Second

// Prepare sets cmd up to die with the run: a process group of its own
// (so the group can be killed with every grandchild in it), SIGKILL when
// the thread that started it ends (Start starts every child on one thread
// that lives until the run ends, so that is when the test process ends),
// the whole group killed when a CommandContext's context is done, Wait
// bounded by DefaultWaitDelay unless cmd sets one, and the run's TMPDIR
// in an environment that names none.
func Prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setPdeathsig(cmd.SysProcAttr)
	if cmd.Cancel != nil { // a CommandContext
		cmd.Cancel = func() error { return KillGroup(cmd.Process.Pid) }
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = DefaultWaitDelay
	}
	if cmd.Env != nil && !hasVar(cmd.Env, "TMPDIR") {
		cmd.Env = append(cmd.Env, "TMPDIR="+os.TempDir())
	}
}

// Start prepares and starts cmd, tells the watchdog its process group,
// and kills the group when tb's test ends (after the cleanups registered
// later, which may stop it more gently first).
func Start(tb testing.TB, cmd *exec.Cmd) error {
	tb.Helper()
	Prepare(cmd)
	if err := spawn(cmd.Start); err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	register(pgid)
	tb.Cleanup(func() { KillGroup(pgid) })
	return nil
}

// Exec starts cmd as Start does and waits for it: cmd.Run for a child
// that must die with the run. Set cmd.Stdout and cmd.Stderr first to keep
// its output.
func Exec(tb testing.TB, cmd *exec.Cmd) error {
	tb.Helper()
	if err := Start(tb, cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// KillGroup sends SIGKILL to the process group pgid; a group that is
// gone already is no error.
func KillGroup(pgid int) error {
	err := syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// spawner starts children on one goroutine locked to its OS thread. The
// parent-death signal fires when the thread that forked the child ends,
// not the process; Go ends a thread only when a goroutine locked to it
// exits, so children forked on an arbitrary thread are safe in practice,
// but one locked thread that lives until the run ends makes it exact.
var spawner struct {
	sync.Mutex
	jobs chan func()
}

func spawn(start func() error) error {
	spawner.Lock()
	defer spawner.Unlock()
	if spawner.jobs == nil {
		spawner.jobs = make(chan func())
		go spawnLoop(spawner.jobs)
	}
	errc := make(chan error, 1)
	spawner.jobs <- func() { errc <- start() }
	return <-errc
}

func spawnLoop(jobs <-chan func()) {
	runtime.LockOSThread() // never unlocked: the thread ends with the loop
	for job := range jobs {
		job()
	}
}

// stopSpawner ends the spawning thread; children still running get
// their parent-death signal.
func stopSpawner() {
	spawner.Lock()
	defer spawner.Unlock()
	if spawner.jobs != nil {
		close(spawner.jobs)
		spawner.jobs = nil
	}
}
