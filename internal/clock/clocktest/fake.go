// Package clocktest is a manual clock.Clock for tests: time moves only when the test says.
package clocktest

import (
	"sync"
	"time"

	"github.com/lvsd/lvsd/internal/clock"
)

var _ clock.Clock = (*Fake)(nil)

// Fake is a manual clock: time moves only with Advance, and timers whose deadline is
// reached fire then.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	fired  int64 // values sent on timer channels and not taken back by Stop/Reset
}

// NewFake returns a fake clock at start (a fixed date when start is zero).
func NewFake(start time.Time) *Fake {
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return &Fake{now: start}
}

// Now is the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer arms a timer d from the fake now.
func (c *Fake) NewTimer(d time.Duration) clock.Timer {
	t := &fakeTimer{clock: c, c: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

// Advance moves time forward by d and fires every timer that became due.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireLocked()
}

func (c *Fake) fireLocked() {
	for _, t := range c.timers {
		if t.armed && !t.when.After(c.now) {
			t.armed = false
			select {
			case t.c <- c.now:
				c.fired++
			default:
			}
		}
	}
}

// Fired counts timer expiries delivered on timer channels (minus those that Stop or
// Reset took back before they were received). A test compares it with the number of
// expiries its code under test has handled to know when everything has settled.
func (c *Fake) Fired() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fired
}

// NextDeadline is the earliest armed timer's deadline.
func (c *Fake) NextDeadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best time.Time
	ok := false
	for _, t := range c.timers {
		if t.armed && (!ok || t.when.Before(best)) {
			best, ok = t.when, true
		}
	}
	return best, ok
}

type fakeTimer struct {
	clock *Fake
	c     chan time.Time
	when  time.Time
	armed bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

// drainLocked takes back an expiry not yet received.
func (t *fakeTimer) drainLocked() {
	select {
	case <-t.c:
		t.clock.fired--
	default:
	}
}

func (t *fakeTimer) Reset(d time.Duration) {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drainLocked()
	t.when, t.armed = c.now.Add(d), true
	c.fireLocked()
}

func (t *fakeTimer) Stop() {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drainLocked()
	t.armed = false
}
