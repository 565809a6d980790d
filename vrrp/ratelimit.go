package vrrp

import "time"

// warnLimiter lets one log line per cause through every `every`, and counts what it held
// back so the next line can say how many were suppressed. Pure: time is passed in.
type warnLimiter struct {
	every      time.Duration
	last       map[string]time.Time
	suppressed map[string]int
}

func newWarnLimiter(every time.Duration) *warnLimiter {
	return &warnLimiter{every: every, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// allow reports whether a line for cause may be logged at now, and how many lines for that
// cause were suppressed since the last one logged.
func (l *warnLimiter) allow(cause string, now time.Time) (ok bool, suppressed int) {
	if last, seen := l.last[cause]; seen && now.Sub(last) < l.every {
		l.suppressed[cause]++
		return false, 0
	}
	l.last[cause] = now
	n := l.suppressed[cause]
	delete(l.suppressed, cause)
	return true, n
}
