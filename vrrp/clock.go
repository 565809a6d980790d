package vrrp

import (
	"time"

	"github.com/lvsd/lvsd/internal/clock"
)

// The runner's time source (see internal/clock).
type (
	Clock     = clock.Clock
	Timer     = clock.Timer
	RealClock = clock.Real
	FakeClock = clock.Fake
)

// NewFakeClock returns a fake clock at start (a fixed date when start is zero).
func NewFakeClock(start time.Time) *FakeClock { return clock.NewFake(start) }
