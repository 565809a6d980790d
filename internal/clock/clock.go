// Package clock is the time source of lvsd's timers (VRRP, health checks), injected so
// that tests can move time by hand (package clocktest).
package clock

import "time"

// Clock is a source of time, injected so that tests drive timers with fake time.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer. After Stop or Reset returns, no value from an earlier
// arming is received from C (Go 1.23 time.Timer semantics).
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }

func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }

var _ Clock = Real{}
