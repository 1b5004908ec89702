package reap

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(Watch(m)) }

// helperEnv makes TestHelperRun run, in a test binary that
// TestKilledRunLeavesNothing starts: "wait" waits to be killed, "exit"
// returns at once.
const helperEnv = "OCT_REAP_HELPER"

// TestHelperRun starts a shell that leaves one child in its process group
// and one that left it (setsid), makes a temp dir, prints
// "ready <shell> <child> <setsid child> <temp dir>" and waits.
func TestHelperRun(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("run by TestKilledRunLeavesNothing")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The setsid child prints its own pid once it has left the group.
	sh := exec.Command("sh", "-c", `sleep 600 & echo $!; setsid sh -c 'echo $$; exec sleep 600' & exec sleep 600`)
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(t, sh); err != nil {
		t.Fatal(err)
	}
	pids := []string{strconv.Itoa(sh.Process.Pid)}
	for sc := bufio.NewScanner(out); len(pids) < 3 && sc.Scan(); {
		pids = append(pids, sc.Text())
	}
	fmt.Printf("ready %s %s\n", strings.Join(pids, " "), dir)
	if mode == "wait" {
		time.Sleep(time.Hour)
	}
}

// TestKilledRunLeavesNothing runs TestHelperRun in a test binary of its
// own, ends that run the ways a run ends, and then finds none of its
// processes running and nothing in the TMPDIR it was given.
func TestKilledRunLeavesNothing(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid (util-linux) is not installed")
	}
	for _, tc := range []struct {
		name string
		mode string
		sig  syscall.Signal
		args []string
	}{
		{"SIGKILL to the test binary", "wait", syscall.SIGKILL, nil},
		{"SIGINT (Ctrl-C)", "wait", syscall.SIGINT, nil},
		{"go test -timeout", "wait", 0, []string{"-test.timeout=2s"}},
		{"normal end", "exit", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperRun$", "-test.v"}, tc.args...)...)
			cmd.Env = append(os.Environ(), helperEnv+"="+tc.mode, "TMPDIR="+tmp)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := Start(t, cmd); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			var ready []string
			sc := bufio.NewScanner(out)
			for ready == nil && sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if f, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
					ready = strings.Fields(f)
				}
			}
			if len(ready) != 4 {
				t.Fatalf("no ready line from the helper run\n%s", log.String())
			}
			if tc.sig != 0 {
				cmd.Process.Signal(tc.sig)
			}
			// EOF comes when the run and its watchdog (which shares the
			// output) have both ended: the sweep is over.
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
			}
			cmd.Wait()
			for i, what := range []string{"the shell", "its child in its group", "its child that left the group"} {
				if pid, _ := strconv.Atoi(ready[i]); alive(pid) {
					t.Errorf("%s (pid %d) still running", what, pid)
				}
			}
			if !strings.HasPrefix(ready[3], tmp+"/") {
				t.Errorf("the helper's temp dir %s is not below the TMPDIR it was given, %s", ready[3], tmp)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left in TMPDIR: %v", ents)
			}
			if !strings.Contains(log.String(), "reap: killed pid "+ready[2]+" ") {
				t.Errorf("the watchdog did not say it killed the child that left its group\n%s", log.String())
			}
			if t.Failed() {
				t.Logf("the helper run's output:\n%s", log.String())
			}
		})
	}
}

// alive reports whether pid is a process that has not exited (a zombie
// has: only its exit status waits for its parent).
func alive(pid int) bool {
	_, state, _, ok := stat(pid)
	return ok && state != "Z" && state != "X"
}

// TestPrepare: what Prepare sets, and what it leaves alone.
func TestPrepare(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cmd        *exec.Cmd
		wantTMPDIR string // in cmd.Env; "" for an inherited environment
		wantCancel bool
	}{
		{"inherited env", exec.Command("true"), "", false},
		{"own env", &exec.Cmd{Path: "/bin/true", Env: []string{"A=1"}}, "TMPDIR=" + os.TempDir(), false},
		{"own TMPDIR", &exec.Cmd{Path: "/bin/true", Env: []string{"TMPDIR=/x"}}, "TMPDIR=/x", false},
		{"with a context", exec.CommandContext(t.Context(), "true"), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Prepare(tc.cmd)
			a := tc.cmd.SysProcAttr
			if !a.Setpgid || a.Pdeathsig != syscall.SIGKILL || tc.cmd.WaitDelay != DefaultWaitDelay {
				t.Errorf("SysProcAttr %+v, WaitDelay %v", a, tc.cmd.WaitDelay)
			}
			var got string
			for _, kv := range tc.cmd.Env {
				if strings.HasPrefix(kv, "TMPDIR=") {
					got = kv
				}
			}
			if got != tc.wantTMPDIR {
				t.Errorf("TMPDIR in env: got %q, want %q", got, tc.wantTMPDIR)
			}
			if (tc.cmd.Cancel != nil) != tc.wantCancel {
				t.Errorf("Cancel set: %v, want %v", tc.cmd.Cancel != nil, tc.wantCancel)
			}
		})
	}
}

// TestCancelKillsTheGroup: a CommandContext's cancel kills the child's
// grandchildren too, and Wait returns although one still held the pipe.
func TestCancelKillsTheGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cmd := exec.CommandContext(ctx, "sh", "-c", "sleep 600 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(t, cmd); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("no pid from the shell")
	}
	child, _ := strconv.Atoi(sc.Text())
	cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(DefaultWaitDelay + 20*time.Second):
		t.Fatal("Wait did not return after cancel")
	}
	poll.Until(t, "the grandchild killed", 10*time.Second, func() bool { return !alive(child) })
}

// TestExec: Exec runs the command to its end, in a process group of its
// own, and returns its exit status.
func TestExec(t *testing.T) {
	for _, tc := range []struct {
		script   string
		wantCode int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
	} {
		// pid and process group, from /proc (fields 1 and 5 of stat)
		var out strings.Builder
		cmd := exec.Command("sh", "-c", `cut -d" " -f1,5 /proc/$$/stat; `+tc.script)
		cmd.Stdout = &out
		err := Exec(t, cmd)
		if code := cmd.ProcessState.ExitCode(); code != tc.wantCode || (err == nil) != (tc.wantCode == 0) {
			t.Errorf("%s: exit %d, err %v; want exit %d", tc.script, code, err, tc.wantCode)
		}
		if f := strings.Fields(out.String()); len(f) != 2 || f[0] != f[1] {
			t.Errorf("%s: pid and group %q, want the shell leading its own group", tc.script, out.String())
		}
	}
}
