package store

import (
	"testing"
	"time"
)

// Where daylight saving time begins at midnight the day has no 00:00:
// its calls still get their own date, and the day begins when the new
// offset does.
func TestDaysWithoutMidnight(t *testing.T) {
	tests := []struct {
		zone             string
		at               string // local, with its offset
		label            string
		startUTC, endUTC string
	}{
		// Santiago: 2026-09-06 00:00 -04 becomes 01:00 -03.
		{"America/Santiago", "2026-09-06T12:00:00-03:00", "2026-09-06", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"},
		{"America/Santiago", "2026-09-05T23:30:00-04:00", "2026-09-05", "2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z"},
		// Havana: 2026-03-08 00:00 -05 becomes 01:00 -04.
		{"America/Havana", "2026-03-08T01:00:00-04:00", "2026-03-08", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"},
		// Beirut: 00:00 becomes 01:00; time.Date already lands on the day.
		{"Asia/Beirut", "2026-03-29T10:00:00+03:00", "2026-03-29", "2026-03-28T22:00:00Z", "2026-03-29T21:00:00Z"},
		// Berlin: at 02:00, a 23-hour day.
		{"Europe/Berlin", "2026-03-29T12:00:00+02:00", "2026-03-29", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		at, _ := time.Parse(time.RFC3339, tt.at)
		d := Days{Location: loc}
		label, start, end := d.Day(at.UnixMilli())
		got := [3]string{label, time.UnixMilli(start).UTC().Format(time.RFC3339), time.UnixMilli(end).UTC().Format(time.RFC3339)}
		if want := [3]string{tt.label, tt.startUTC, tt.endUTC}; got != want {
			t.Errorf("%s %s: Day = %v, want %v", tt.zone, tt.at, got, want)
		}
		if s, err := DayStart(label, loc); err != nil || s != start {
			t.Errorf("%s: DayStart(%s) = %d, %v; want %d", tt.zone, label, s, err, start)
		}
	}
}
