package healthcheck

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a manual clock: time moves only with Advance, which fires due timers.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clk    *fakeClock
	c      chan time.Time
	when   time.Time
	active bool
}

var _ Clock = (*fakeClock)(nil)

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{clk: f, c: make(chan time.Time, 1)}
	f.timers = append(f.timers, t)
	t.arm(d)
	return t
}

// arm must be called with clk.mu held.
func (t *fakeTimer) arm(d time.Duration) {
	select { // drop a stale tick, like Go 1.23 timers
	case <-t.c:
	default:
	}
	t.when, t.active = t.clk.now.Add(d), true
	t.clk.fire()
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Reset(d time.Duration) {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	t.arm(d)
}
func (t *fakeTimer) Stop() {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	t.active = false
}

func (f *fakeClock) fire() {
	for _, t := range f.timers {
		if t.active && !t.when.After(f.now) {
			t.active = false
			select {
			case t.c <- f.now:
			default:
			}
		}
	}
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.fire()
}

// armedAt is the earliest active timer's deadline.
func (f *fakeClock) armedAt() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var w time.Time
	for _, t := range f.timers {
		if t.active && (w.IsZero() || t.when.Before(w)) {
			w = t.when
		}
	}
	return w
}

// waitIdle waits until the scheduler holds all n jobs and has armed its timer for the
// earliest: only then is it safe to Advance without racing the dispatcher.
func waitIdle(t *testing.T, f *fakeClock, s *Scheduler, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s.Len() == n {
			if due := s.nextDue(); !due.IsZero() && f.armedAt().Equal(due) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduler not idle: %d/%d jobs waiting, next due %v, timer armed at %v", s.Len(), n, s.nextDue(), f.armedAt())
		}
		time.Sleep(time.Millisecond)
	}
}
