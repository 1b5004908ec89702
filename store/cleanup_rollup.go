package store

import (
	"context"
	"fmt"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// DefaultRollupRetention keeps daily rollups for OCT_ROLLUP_RETENTION's
// default, 400 days: a year and its month before.
const DefaultRollupRetention = 400 * 24 * time.Hour

// expireRollups deletes the rollups of days that ended more than
// RollupRetention ago, one day per statement: a day holds at most
// RollupKeysPerDay+1 rows, so the writer is never kept waiting long.
func (c *Cleaner) expireRollups(ctx context.Context, res *Result) error {
	keep := c.RollupRetention
	if keep <= 0 {
		keep = DefaultRollupRetention
	}
	days := Days{Location: c.db.zone()}
	// The day that held the cutoff ended after it: kept.
	cutoff, _, _ := days.Day(c.Now().Add(-keep).UnixMilli())
	for {
		r, err := c.db.writeExec(ctx, "DELETE FROM "+codec.RollupsTable+" WHERE day = (SELECT min(day) FROM "+codec.RollupsTable+") AND day < ?", cutoff)
		if err != nil {
			return fmt.Errorf("expire rollups: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("expire rollups: %w", err)
		}
		res.Expired[codec.RollupsTable] += n
		if n == 0 {
			return nil
		}
	}
}
