package reap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// watchdog collects the process groups the test process registers on in,
// one a line, until EOF (the test process has ended, or ended the run)
// or SIGTERM; then it kills what the run left running and removes dir.
func watchdog(dir string, in io.Reader) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	parent := os.Getppid()
	var mu sync.Mutex
	groups := map[int]bool{}
	eof := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if pgid, err := strconv.Atoi(sc.Text()); err == nil && pgid > 1 {
				mu.Lock()
				groups[pgid] = true
				mu.Unlock()
			}
		}
		close(eof)
	}()
	select {
	case <-eof:
	case <-term:
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range sweep(dir, groups, os.Getpid(), parent) {
		fmt.Fprintf(os.Stderr, "reap: killed pid %d (%s), left running by the test run\n", p.pid, p.name)
	}
	if err := removeAll(dir); err != nil {
		fmt.Fprintf(os.Stderr, "reap: %v\n", err)
		return 1
	}
	return 0
}

type proc struct {
	pid  int
	name string
}

// sweep kills, until none is left, every live process in one of groups
// or with the run's TMPDIR in its environment, except skip; it returns
// those it found alive. Zombies count as gone: they are dead, and their
// new parent reaps them (or, where PID 1 does not reap, nobody).
func sweep(dir string, groups map[int]bool, skip ...int) []proc {
	var found []proc
	seen := map[int]bool{}
	for g := range groups {
		KillGroup(g)
	}
	for round := 0; round < 100; round++ {
		left := scan(dir, groups, skip)
		if len(left) == 0 {
			break
		}
		for _, p := range left {
			syscall.Kill(p.pid, syscall.SIGKILL)
			if !seen[p.pid] {
				seen[p.pid] = true
				found = append(found, p)
			}
		}
		time.Sleep(20 * time.Millisecond) // let the kills land, then look again
	}
	return found
}

// scan lists the live processes of groups, or marked with dir as TMPDIR.
func scan(dir string, groups map[int]bool, skip []int) []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
next:
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, s := range skip {
			if pid == s {
				continue next
			}
		}
		name, state, pgrp, ok := stat(pid)
		if !ok || state == "Z" || state == "X" {
			continue
		}
		if groups[pgrp] || marked(pid, dir) {
			out = append(out, proc{pid, name})
		}
	}
	return out
}

// stat reads a process's name, state and process group from /proc.
func stat(pid int) (name, state string, pgrp int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", 0, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", "", 0, false
	}
	f := strings.Fields(string(b[end+1:])) // state ppid pgrp ...
	if len(f) < 3 {
		return "", "", 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return string(b[open+1 : end]), f[0], pgrp, err == nil
}

// marked reports whether the process's TMPDIR is dir or below it.
func marked(pid int, dir string) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("TMPDIR=")); ok {
			return string(v) == dir || strings.HasPrefix(string(v), dir+"/")
		}
	}
	return false
}

// removeAll removes dir; a test may have left a directory in it
// read-only (store's read-only test does), so on failure every directory
// is made writable and it tries again.
func removeAll(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
