package logtail

import (
	"context"
	"fmt"
	"os"
)

// step handles the current file once: reads it to the end through the
// handle kept open on it, and moves to the next file when a newer one
// exists. It reports whether to step again at once.
//
// The handle makes a rename or deletion harmless: the lines still in the
// old file are read from it whatever its name is now. The listing is taken
// before the file is read to its end, so a newer file seen in it was
// created after everything read from the old one: switching loses nothing
// the writer put in the old file before rotating.
func (f *Follower) step(ctx context.Context) (bool, error) {
	cands, err := candidates(f.Path)
	if err != nil {
		f.Stats.ReadErrors.Add(1)
		return false, fmt.Errorf("list log files: %w", err)
	}
	if f.cur == nil {
		return f.follow(newest(cands, nil)), nil
	}
	if f.cur.fh == nil {
		again, err := f.open(cands)
		if f.cur == nil || f.cur.fh == nil {
			return again, err
		}
	}
	file, err := f.restat(cands)
	if err != nil {
		return false, err
	}
	next := newest(cands, &file)
	if err := f.read(ctx, file, next != nil); err != nil {
		return false, err
	}
	if next == nil {
		return false, nil
	}
	f.Stats.Switches.Add(1)
	return f.follow(next), nil
}

// open finds the current file by identity and opens it. A saved position
// whose file no longer exists gives way to the newest file, from its start.
func (f *Follower) open(cands []candidate) (bool, error) {
	file, ok := findByID(cands, f.cur.file)
	if !ok {
		if f.cur.seen {
			// Gone between listing and open: take what came after it.
			return f.follow(newest(cands, &f.cur.file)), nil
		}
		f.logger().Info("saved gateway log position not found, starting over", "file", f.cur.file.path)
		f.Stats.Switches.Add(1)
		return f.follow(newest(cands, nil)), nil
	}
	fh, err := os.Open(file.path)
	if err != nil {
		f.Stats.ReadErrors.Add(1)
		return false, fmt.Errorf("open log: %w", err)
	}
	if fi, err := fh.Stat(); err != nil || !file.same(candidate{path: file.path, id: idOf(fi)}) {
		fh.Close() // renamed between listing and open: the next poll finds it
		return false, nil
	}
	f.cur.fh, f.cur.seen = fh, true
	return true, nil
}

// restat describes the open file now: its size from the handle, its name
// from the listing if it is still there (the cursor records it).
func (f *Follower) restat(cands []candidate) (candidate, error) {
	fi, err := f.cur.fh.Stat()
	if err != nil {
		f.Stats.ReadErrors.Add(1)
		return candidate{}, fmt.Errorf("stat log: %w", err)
	}
	file := f.cur.file
	file.id, file.size, file.mtime = idOf(fi), fi.Size(), fi.ModTime()
	for _, c := range cands {
		if c.same(file) {
			file.path, file.rot = c.path, c.rot
		}
	}
	f.cur.file = file
	return file, nil
}

// follow makes c the current file, from its start.
func (f *Follower) follow(c *candidate) bool {
	if c == nil {
		return false
	}
	f.logger().Info("following gateway log", "file", c.path)
	f.closeFile()
	f.cur = &position{file: *c, seen: true}
	return true
}

func (f *Follower) closeFile() {
	if f.cur != nil && f.cur.fh != nil {
		f.cur.fh.Close()
		f.cur.fh = nil
	}
}

// Close stops the loop Open started, waits for it (a line being sent is
// given up and read again at the next start) and releases the file being
// followed. Who calls Poll directly calls it when done.
func (f *Follower) Close() error {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	f.closeFile()
	return nil
}

// newest returns, when after is nil, the newest candidate; otherwise the
// oldest one newer than after, so that several files rotated in between are
// read in order. Only newer files are ever followed next: an older file is
// one already read (or rotated away before we started). A different file
// under after's last name counts as newer: it was created after after left
// that name (rotated or deleted), maybe within the same clock tick.
func newest(cands []candidate, after *candidate) *candidate {
	var best *candidate
	for i := range cands {
		c := &cands[i]
		if after != nil && (c.same(*after) || !c.newer(*after) && c.path != after.path) {
			continue
		}
		if best == nil || (after == nil) == c.newer(*best) {
			best = c
		}
	}
	return best
}
