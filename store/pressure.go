package store

import (
	"context"
	"fmt"
	"syscall"
)

// Disk pressure: above the high watermark the Cleaner deletes the oldest
// delivered rows, then the oldest undelivered ones (evicted).

// VolumeUsage is the percent of the volume holding dir that is in use, as
// df(1) computes it: used / (used + available to unprivileged writers).
func VolumeUsage(dir string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	used := float64(st.Blocks - st.Bfree)
	if used+float64(st.Bavail) <= 0 {
		return 0, nil
	}
	return used / (used + float64(st.Bavail)) * 100, nil
}

// relieve deletes the oldest delivered rows, a chunk at a time, while the
// volume is above HighWatermark; then, only if still above, the oldest
// undelivered rows, which are lost to the sinks and counted as evicted.
func (c *Cleaner) relieve(ctx context.Context, res *Result) error {
	if c.HighWatermark <= 0 {
		return nil
	}
	over, err := c.over()
	if err != nil || !over {
		return err
	}
	start := Sum(res.Evicted)
	defer func() {
		if n := Sum(res.Evicted) - start; n > 0 {
			c.Logger.Warn("disk above high watermark: evicted unsynced rows", "evicted", n,
				"high_watermark", c.HighWatermark)
		}
	}()
	for _, delivered := range []bool{true, false} {
		for over {
			n, err := c.deleteOldest(ctx, delivered, res)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			// Deleted rows only free pages inside the file; the volume sees
			// the space once they are vacuumed and checkpointed.
			if err := c.reclaim(ctx, res); err != nil {
				return err
			}
			if over, err = c.over(); err != nil {
				return err
			}
		}
	}
	if over {
		c.Logger.Warn("disk above high watermark with no rows left to delete", "high_watermark", c.HighWatermark)
	}
	return nil
}

func (c *Cleaner) over() (bool, error) {
	used, err := c.DiskUsage()
	if err != nil {
		return false, fmt.Errorf("disk usage: %w", err)
	}
	return used > c.HighWatermark, nil
}

// state is the condition of a row of table delivered (or not) to every
// enabled sink.
func (c *Cleaner) state(table string, delivered bool) string {
	if delivered {
		return c.delivered(table)
	}
	return "NOT " + c.delivered(table)
}

// oldestSQL finds the created_at of the n-th oldest row, delivered or not,
// across the data tables: the compound ORDER BY merges the tables'
// created_at indexes instead of sorting them.
func (c *Cleaner) oldestSQL(delivered bool) string {
	q := "SELECT max(created_at) FROM ("
	for i, t := range DataTables {
		if i > 0 {
			q += " UNION ALL "
		}
		q += "SELECT created_at FROM " + t + " WHERE " + c.state(t, delivered)
	}
	return q + " ORDER BY 1 LIMIT ?1)"
}

// deleteOldest deletes about DeleteChunk rows, delivered or not, the oldest
// across the data tables, and reports how many went.
func (c *Cleaner) deleteOldest(ctx context.Context, delivered bool, res *Result) (int64, error) {
	var cutoff *int64
	if err := c.db.read.QueryRowContext(ctx, c.oldestSQL(delivered), c.chunk()).Scan(&cutoff); err != nil {
		return 0, fmt.Errorf("find oldest rows: %w", err)
	}
	if cutoff == nil {
		return 0, nil
	}
	var total int64
	for _, t := range DataTables {
		left := c.chunk() - int(total)
		if left <= 0 {
			break
		}
		n, err := c.deleteChunk(ctx, t, c.state(t, delivered)+" AND created_at <= ?", left, *cutoff)
		total += n
		c.countPressure(t, delivered, n, res)
		if err != nil {
			return total, fmt.Errorf("delete oldest %s: %w", t, err)
		}
	}
	return total, nil
}

// countPressure counts n rows deleted under disk pressure where it
// happens, so an error later in the pass cannot lose an eviction.
func (c *Cleaner) countPressure(table string, delivered bool, n int64, res *Result) {
	if delivered {
		res.Relieved[table] += n
		c.Relieved.Add(n)
		return
	}
	res.Evicted[table] += n
	c.Evicted.Add(n)
}
