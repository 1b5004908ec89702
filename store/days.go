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
	s := time.Date(y, m, day, 0, 0, 0, 0, loc)
	d.start, d.end, d.label = s.UnixMilli(), s.AddDate(0, 0, 1).UnixMilli(), s.Format(time.DateOnly)
	return d.label, d.start, d.end
}

// DayStart returns the first instant (unix ms) of the date label in loc.
func DayStart(label string, loc *time.Location) (int64, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(time.DateOnly, label, loc)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}
