package vrrp

import "github.com/lvsd/lvsd/internal/clock"

// The runner's time source (see internal/clock).
type (
	Clock     = clock.Clock
	Timer     = clock.Timer
	RealClock = clock.Real
)
