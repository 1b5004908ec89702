package logtail

import (
	"context"
	"fmt"
)

// step handles the current file once: finds it (by identity, wherever it
// was renamed), reads it to the end, and moves to the next file when a
// newer one exists. It reports whether to step again at once.
//
// The listing is taken before the current file is read to its end, so a
// newer file seen in it was created after everything read from the old one:
// switching then loses nothing the writer put in the old file before
// rotating.
func (f *Follower) step(ctx context.Context) (bool, error) {
	cands, err := candidates(f.Path)
	if err != nil {
		f.stats.readErrors.Add(1)
		return false, fmt.Errorf("list log files: %w", err)
	}
	if f.cur == nil {
		return f.follow(newest(cands, nil)), nil
	}
	file, ok := findByID(cands, f.cur.file)
	if !ok {
		return f.gone(cands), nil
	}
	f.cur.file, f.cur.seen = file, true
	if file.size < f.cur.offset {
		f.logger().Info("gateway log truncated, reading from the start", "file", file.path)
		f.stats.switches.Add(1)
		f.cur.offset = 0
	}
	next := newest(cands, &file)
	if err := f.read(ctx, file, next != nil); err != nil {
		return false, err
	}
	if next == nil {
		return false, nil
	}
	f.stats.switches.Add(1)
	return f.follow(next), nil
}

// gone handles a current file that no longer exists: lines it held beyond
// the position are lost (nobody can read them now). A file written since
// it, or re-created under its name, is followed from its start; a loaded
// position that matches no file gives way to the newest file.
func (f *Follower) gone(cands []candidate) bool {
	var next *candidate
	if f.cur.seen {
		next = newest(cands, &f.cur.file)
		if next == nil {
			next = recreated(cands, f.cur.file)
		}
	} else {
		next = newest(cands, nil)
	}
	if next == nil {
		return false
	}
	f.logger().Info("followed gateway log is gone", "file", f.cur.file.path, "offset", f.cur.offset)
	f.stats.switches.Add(1)
	return f.follow(next)
}

// recreated finds a new file under old's name with old's time: deleted
// and created again within one clock tick.
func recreated(cands []candidate, old candidate) *candidate {
	for i, c := range cands {
		if c.path == old.path && !c.same(old) {
			return &cands[i]
		}
	}
	return nil
}

// follow makes c the current file, from its start.
func (f *Follower) follow(c *candidate) bool {
	if c == nil {
		return false
	}
	f.logger().Info("following gateway log", "file", c.path)
	f.cur = &position{file: *c, seen: true}
	return true
}

// newest returns, when after is nil, the newest candidate; otherwise the
// oldest one newer than after, so that several files rotated in between are
// read in order. Only newer files are ever followed next: an older file is
// one already read (or rotated away before we started).
func newest(cands []candidate, after *candidate) *candidate {
	var best *candidate
	for i := range cands {
		c := &cands[i]
		if after != nil && (c.same(*after) || !c.newer(*after)) {
			continue
		}
		if best == nil || (after == nil) == c.newer(*best) {
			best = c
		}
	}
	return best
}
