package budget

import (
	"fmt"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/store"
)

// Window is how long a budget's spend adds up before it starts again at 0:
// a calendar day, week (Monday to Sunday) or month in the budget zone
// (OCT_BUDGET_TZ). Windows are whole days of that zone, so a window's
// spend is the sum of whole daily rollups.
type Window uint8

// The windows.
const (
	Day Window = iota + 1
	Week
	Month
)

var windowNames = [...]string{Day: "day", Week: "week", Month: "month"}

func (w Window) String() string {
	if w >= Day && w <= Month {
		return windowNames[w]
	}
	return "unknown"
}

// ParseWindow reads day, week or month.
func ParseWindow(s string) (Window, error) {
	for w := Day; w <= Month; w++ {
		if strings.EqualFold(s, windowNames[w]) {
			return w, nil
		}
	}
	return 0, fmt.Errorf("unknown window %q: want day, week or month", s)
}

// Bounds returns the window that holds at, [start, end), in loc (nil is
// UTC). A day across a change to or from daylight saving time is 23 or 25
// hours long. A window starts and ends at the first instant of a date
// (store.Midnight), as the rollups' days do, so the two always agree.
func (w Window) Bounds(at time.Time, loc *time.Location) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := at.In(loc).Date()
	switch w {
	case Week:
		back := (int(time.Date(y, m, d, 12, 0, 0, 0, loc).Weekday()) + 6) % 7 // days since Monday
		return store.Midnight(y, m, d-back, loc), store.Midnight(y, m, d-back+7, loc)
	case Month:
		return store.Midnight(y, m, 1, loc), store.Midnight(y, m+1, 1, loc)
	default:
		return store.Midnight(y, m, d, loc), store.Midnight(y, m, d+1, loc)
	}
}
