package vrrp

import (
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/clock/clocktest"
)

func received(t Timer) bool {
	select {
	case <-t.C():
		return true
	default:
		return false
	}
}

func TestFakeClockTimers(t *testing.T) {
	c := clocktest.NewFake(time.Time{})
	start := c.Now()
	tm := c.NewTimer(time.Second)
	if dl, ok := c.NextDeadline(); !ok || dl != start.Add(time.Second) {
		t.Fatalf("next deadline %v %v", dl, ok)
	}
	c.Advance(999 * time.Millisecond)
	if received(tm) || c.Fired() != 0 {
		t.Fatal("fired early")
	}
	c.Advance(time.Millisecond)
	if c.Fired() != 1 || !received(tm) {
		t.Fatal("did not fire at its deadline")
	}
	c.Advance(time.Hour)
	if received(tm) {
		t.Fatal("one-shot timer fired twice")
	}
	if _, ok := c.NextDeadline(); ok {
		t.Fatal("expired timer still armed")
	}

	// Stop takes back an expiry that was not received.
	tm.Reset(time.Second)
	c.Advance(time.Second)
	tm.Stop()
	if received(tm) || c.Fired() != 1 {
		t.Fatalf("Stop left a stale expiry (fired %d)", c.Fired())
	}
	// Reset re-arms from now and drops a stale expiry.
	tm.Reset(time.Second)
	c.Advance(time.Second)
	tm.Reset(2 * time.Second)
	c.Advance(time.Second)
	if received(tm) {
		t.Fatal("stale expiry after Reset")
	}
	c.Advance(time.Second)
	if !received(tm) {
		t.Fatal("reset timer did not fire")
	}
	// A zero or negative duration fires at once.
	tm.Reset(0)
	if !received(tm) {
		t.Fatal("Reset(0) did not fire")
	}
	if want := start.Add(time.Hour + 5*time.Second); !c.Now().Equal(want) {
		t.Fatalf("now %v, want %v", c.Now(), want)
	}
}

func TestRealClockTimer(t *testing.T) {
	var c Clock = RealClock{}
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Fatalf("RealClock.Now off by %v", d)
	}
	tm := c.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("real timer never fired")
	}
	tm.Reset(time.Hour)
	tm.Stop()
	if received(tm) {
		t.Fatal("stopped real timer delivered")
	}
}
