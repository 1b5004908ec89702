package budget

import (
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func rfc(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// Windows across changes to and from daylight saving time and across
// month ends, in zones other than UTC.
func TestWindowBounds(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		w          Window
		at         string
		start, end string // UTC
		hours      float64
	}{
		{"DST begins: a 23-hour day", "Europe/Berlin", Day, "2026-03-29T12:00:00+02:00", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23},
		{"DST ends: a 25-hour day", "Europe/Berlin", Day, "2026-10-25T12:00:00+01:00", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25},
		{"before the change, the same day", "Europe/Berlin", Day, "2026-03-29T01:59:00+01:00", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23},
		{"week across DST, Monday to Monday", "Europe/Berlin", Week, "2026-03-29T23:59:00+02:00", "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", 167},
		{"week from its Monday", "Europe/Berlin", Week, "2026-03-30T00:00:00+02:00", "2026-03-29T22:00:00Z", "2026-04-05T22:00:00Z", 168},
		{"month across DST", "Europe/Berlin", Month, "2026-03-15T12:00:00+01:00", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 743},
		{"month end: 00:30 on the 1st is next month", "Europe/Berlin", Month, "2026-02-01T00:30:00+01:00", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z", 672},
		{"month end: 23:59 on the 31st", "Europe/Berlin", Month, "2026-01-31T23:59:59+01:00", "2025-12-31T23:00:00Z", "2026-01-31T23:00:00Z", 744},
		{"day at month end", "America/New_York", Day, "2026-01-31T23:30:00-05:00", "2026-01-31T05:00:00Z", "2026-02-01T05:00:00Z", 24},
		{"leap February", "America/New_York", Month, "2028-02-29T20:00:00-05:00", "2028-02-01T05:00:00Z", "2028-03-01T05:00:00Z", 696},
		{"year end week", "Asia/Tokyo", Week, "2026-01-01T09:00:00+09:00", "2025-12-28T15:00:00Z", "2026-01-04T15:00:00Z", 168},
		{"DST at midnight: the day begins at 01:00", "America/Santiago", Day, "2026-09-06T12:00:00-03:00", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", 23},
		{"half-hour zone", "Asia/Kathmandu", Day, "2026-05-01T00:10:00+05:45", "2026-04-30T18:15:00Z", "2026-05-01T18:15:00Z", 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := tt.w.Bounds(rfc(t, tt.at), mustZone(t, tt.zone))
			got := [2]string{s.UTC().Format(time.RFC3339), e.UTC().Format(time.RFC3339)}
			if want := [2]string{tt.start, tt.end}; got != want {
				t.Errorf("Bounds = %v, want %v", got, want)
			}
			if h := e.Sub(s).Hours(); h != tt.hours {
				t.Errorf("window is %v hours, want %v", h, tt.hours)
			}
		})
	}
}

// A window is exactly the rollup days from its first date to the date of
// its end: for instants every 37 minutes through a year, in zones with
// DST at 02:00, at midnight, with half-hour offsets, an instant is inside
// its window exactly when its rollup day is.
func TestWindowsAgreeWithRollupDays(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/Santiago", "America/Havana", "Australia/Lord_Howe", "Asia/Kathmandu"} {
		loc := mustZone(t, zone)
		days := store.Days{Location: loc}
		for _, w := range []Window{Day, Week, Month} {
			for at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() == 2026; at = at.Add(37 * time.Minute) {
				s, e := w.Bounds(at, loc)
				if at.Before(s) || !at.Before(e) {
					t.Fatalf("%s %v: %v is outside its window [%v, %v)", zone, w, at, s, e)
				}
				label, _, _ := days.Day(at.UnixMilli())
				first, _, _ := days.Day(s.UnixMilli())
				after, _, _ := days.Day(e.UnixMilli())
				if label < first || label >= after {
					t.Fatalf("%s %v: %v has rollup day %s, outside [%s, %s)", zone, w, at, label, first, after)
				}
				if prev, _, _ := days.Day(s.UnixMilli() - 1); prev == first {
					t.Fatalf("%s %v: the instant before the window %v has its first day %s", zone, w, s, first)
				}
			}
		}
	}
}
