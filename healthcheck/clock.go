package healthcheck

import "github.com/lvsd/lvsd/internal/clock"

// The scheduler's and manager's time source (see internal/clock).
type (
	Clock     = clock.Clock
	Timer     = clock.Timer
	RealClock = clock.Real
)
