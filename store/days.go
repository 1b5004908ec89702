package store

import "time"

// Days tells which day of Location an instant falls in: the day rollups
// and budgets count it in. It remembers the last day it computed, so a
// run of calls of one day costs no time arithmetic.
type Days struct {
	Location   *time.Location // nil is UTC
	start, end int64          // unix ms bounds of the remembered day
	label      string
}

// Day returns the date (YYYY-MM-DD) of unix ms at, and the bounds of that
// day [start, end) in unix ms.
func (d *Days) Day(at int64) (label string, start, end int64) {
	if d.label != "" && at >= d.start && at < d.end {
		return d.label, d.start, d.end
	}
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, day := time.UnixMilli(at).In(loc).Date()
	s, e := Midnight(y, m, day, loc), Midnight(y, m, day+1, loc)
	d.start, d.end, d.label = s.UnixMilli(), e.UnixMilli(), s.Format(time.DateOnly)
	return d.label, d.start, d.end
}

// Midnight returns the first instant of the date y-m-d in loc (d may be
// out of its month's range, as time.Date allows). Where daylight saving
// time begins at midnight (America/Santiago, America/Havana) that day has
// no 00:00, and time.Date's 00:00 falls an hour early, on the day before:
// the day then begins when the new offset does.
func Midnight(y int, m time.Month, d int, loc *time.Location) time.Time {
	wy, wm, wd := time.Date(y, m, d, 12, 0, 0, 0, loc).Date() // noon always exists
	t := time.Date(wy, wm, wd, 0, 0, 0, 0, loc)
	if ty, tm, td := t.Date(); ty != wy || tm != wm || td != wd {
		_, t = t.ZoneBounds() // the offset change, which begins the day
	}
	return t
}

// DayStart returns the first instant (unix ms) of the date label in loc.
func DayStart(label string, loc *time.Location) (int64, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.Parse(time.DateOnly, label)
	if err != nil {
		return 0, err
	}
	return Midnight(t.Year(), t.Month(), t.Day(), loc).UnixMilli(), nil
}
