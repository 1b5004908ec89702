package view

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/openclaw/openclaw-trace/store"

	"github.com/openclaw/openclaw-trace/codec"
)

// state is what a read needs to know of the file: whether it has the
// attribution columns and complete rollups, their zone, and from when on
// the raw rows hold every call.
type state struct {
	columns bool // attribution columns (schema 4 on)
	rollups bool // rollups that count every call stored (backfill done)
	loc     *time.Location
	// horizon is the newest created_at of a call deleted since rollups
	// began: raw rows after it are exactly the calls the rollups count.
	horizon         sql.NullInt64
	oldestRollupDay sql.NullString
	oldestRaw       sql.NullInt64
}

// rollupSchema is the schema version that made attribution columns and
// rollups. `report` opens files without migrating them, so older ones are
// read too: names from metadata, raw rows only.
const rollupSchema = 4

func (v *View) state(ctx context.Context) (*state, error) {
	st := &state{loc: time.UTC}
	var version int
	if err := v.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if err := v.db.QueryRowContext(ctx, "SELECT min(created_at) FROM "+codec.LLMTraces.Name).Scan(&st.oldestRaw); err != nil {
		return nil, fmt.Errorf("oldest call: %w", err)
	}
	if version < rollupSchema {
		return st, nil
	}
	st.columns = true
	var zone string
	var backfill bool
	if err := v.db.QueryRowContext(ctx, "SELECT zone, raw_horizon, backfill FROM "+codec.RollupStateTable+" WHERE id = 1").
		Scan(&zone, &st.horizon, &backfill); err != nil {
		return nil, fmt.Errorf("read rollup state: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("rollup zone: %w", err)
	}
	st.loc, st.rollups = loc, !backfill
	if st.rollups {
		if err := v.db.QueryRowContext(ctx, "SELECT min(day) FROM "+codec.RollupsTable).Scan(&st.oldestRollupDay); err != nil {
			return nil, fmt.Errorf("oldest rollup: %w", err)
		}
	}
	return st, nil
}

// plan is where a window's calls are read from: whole days
// [rollFrom, rollTo] from the rollups; [rawFrom, rawTo) and, when set,
// [tailFrom, rawTo) from raw rows (then [rawFrom, rawTo) is the part of
// the first day before the rollup days: rawTo is their start).
type plan struct {
	rollFrom, rollTo string // "" when no day is read from rollups
	rawFrom, rawTo   int64
	tailFrom         int64 // 0: no second raw range
	until            int64
}

// rawRanges are the plan's raw ranges, non-empty ones only.
func (p plan) rawRanges() [][2]int64 {
	var r [][2]int64
	if p.rawFrom < p.rawTo {
		r = append(r, [2]int64{p.rawFrom, p.rawTo})
	}
	if p.tailFrom != 0 && p.tailFrom < p.until {
		r = append(r, [2]int64{p.tailFrom, p.until})
	}
	return r
}

// plan splits [since, until): raw rows where they hold every call (after
// the horizon's day), rollups for the days before. The first rollup day is
// read whole, though it may begin before since: rollups have no finer
// time. With wholeDays, the days that lie whole inside the window are read
// from rollups too (every call of theirs is there as well), and raw rows
// only for the parts of days at its ends: what makes a breakdown of a
// month cheap, for percentiles within 20% on those days.
func (st *state) plan(since, until int64, wholeDays bool) plan {
	p := plan{rawFrom: since, rawTo: until, until: until}
	if !st.rollups {
		return p
	}
	days := store.Days{Location: st.loc}
	if st.horizon.Valid && st.horizon.Int64 >= since {
		p.rollFrom, _, _ = days.Day(since)
		var end int64
		p.rollTo, _, end = days.Day(st.horizon.Int64)
		if end >= until {
			p.rollTo, _, _ = days.Day(until - 1)
			end = until
		}
		p.rawFrom = end
	}
	if !wholeDays {
		return p
	}
	// Whole days in [rawFrom, until): from the first midnight m0 to the
	// last one m1.
	label, start, end := days.Day(p.rawFrom)
	m0 := end
	if start == p.rawFrom {
		m0 = start
	} else {
		label, _, _ = days.Day(end)
	}
	_, m1, _ := days.Day(until)
	if m0 >= m1 {
		return p
	}
	if p.rollFrom == "" {
		p.rollFrom = label
	}
	p.rollTo, _, _ = days.Day(m1 - 1)
	p.rawTo, p.tailFrom = m0, m1
	return p
}

// Coverage says where a window's numbers come from and how far back each
// source reaches.
type Coverage struct {
	Zone string `json:"zone"` // IANA zone of days (by_day, rollups)
	// RollupFrom and RollupTo are the first and last day of the window
	// read from daily rollups (whole days); empty when none is.
	RollupFrom string `json:"rollup_from,omitempty"`
	RollupTo   string `json:"rollup_to,omitempty"`
	// RawFrom is where the window's calls start to be read from stored
	// calls (unix ms): sessions, hours and recent errors reach back only
	// as far. A breakdown reads whole days inside the window from the
	// rollups too: RawRanges are the [from, until) ranges read from stored
	// calls.
	RawFrom   int64      `json:"raw_from"`
	RawRanges [][2]int64 `json:"raw_ranges"`
	// OldestRollupDay and OldestRawAt are how far back the database
	// reaches at all: the windows worth asking for.
	OldestRollupDay *string `json:"oldest_rollup_day"`
	OldestRawAt     *int64  `json:"oldest_raw_at"`
}

func (st *state) coverage(p plan) Coverage {
	c := Coverage{Zone: st.loc.String(), RollupFrom: p.rollFrom, RollupTo: p.rollTo, RawFrom: p.rawFrom,
		RawRanges: p.rawRanges()}
	if c.RawRanges == nil {
		c.RawRanges = [][2]int64{}
	}
	if st.oldestRollupDay.Valid {
		c.OldestRollupDay = &st.oldestRollupDay.String
	}
	if st.oldestRaw.Valid {
		c.OldestRawAt = &st.oldestRaw.Int64
	}
	return c
}
