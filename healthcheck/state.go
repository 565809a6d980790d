package healthcheck

import (
	"fmt"
	"time"
)

// CheckPolicy is the timing of one check (keepalived's checker fields).
type CheckPolicy struct {
	// Retry is how many retries follow a failure of an up check before it is down: an up
	// check goes down after Retry+1 consecutive failures.
	Retry int
	// DelayLoop is the interval between regular checks.
	DelayLoop time.Duration
	// DelayBeforeRetry replaces DelayLoop between the failures of an up check.
	DelayBeforeRetry time.Duration
	// Alpha starts the check down: one success is needed before the server gets traffic.
	Alpha bool
}

// CheckState is one check's up/down state, stepped by results. It follows keepalived's
// tcp_epilog / misc_check_child_thread logic:
//   - a success marks the check up at once and resets the failure count;
//   - an up check that fails is retried after DelayBeforeRetry, and goes down at the
//     (Retry+1)th consecutive failure;
//   - before the first result, a single failure is enough (keepalived sets retry_it to
//     retry at start: "For non alpha mode, one failure is enough initially");
//   - a down check is checked every DelayLoop and stays down until a success.
type CheckState struct {
	policy   CheckPolicy
	up       bool
	hasRun   bool
	retryIt  int // keepalived's retry_it
	failures int // consecutive failures, for causes and status
}

// NewCheckState starts a check up, or down with Alpha.
func NewCheckState(p CheckPolicy) CheckState {
	return CheckState{policy: p, up: !p.Alpha, retryIt: p.Retry}
}

// Up reports the check's current state.
func (s *CheckState) Up() bool { return s.up }

// Failures is the number of consecutive failed results.
func (s *CheckState) Failures() int { return s.failures }

// Observe steps the state with one result. It returns the delay until the next check and
// whether the check changed state (or, for its first result, settled its initial state).
func (s *CheckState) Observe(r Result) (next time.Duration, changed bool) {
	next = s.policy.DelayLoop
	first := !s.hasRun
	s.hasRun = true
	if r.Up {
		s.failures = 0
		s.retryIt = 0
		changed = !s.up
		s.up = true
		return next, changed
	}
	s.failures++
	switch {
	case (s.up || first) && s.retryIt >= s.policy.Retry:
		s.retryIt = 0
		changed = s.up
		s.up = false
	case s.up:
		s.retryIt++
		next = s.policy.DelayBeforeRetry
	}
	return next, changed
}

// ordinal spells 1st, 2nd, 3rd, 4th, 11th, 21st.
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// ServerState is one real server's health: the states of its checks (all must be up for
// the server to be up) and the dynamic weight set by a misc_dynamic check.
type ServerState struct {
	checks []CheckState
	up     bool
	// weight is the misc_dynamic weight, nil while no check set one.
	weight *int

	LastWhy     string
	LastTime    time.Time
	LastLatency time.Duration
	// Durations counts how long every check of this server took.
	Durations Histogram
}

// NewServerState builds the state for a server with one policy per check. With no check
// the server is always up, as in keepalived.
func NewServerState(policies []CheckPolicy) *ServerState {
	s := &ServerState{up: true}
	for _, p := range policies {
		cs := NewCheckState(p)
		s.checks = append(s.checks, cs)
		if !cs.up {
			s.up = false
		}
	}
	return s
}

// Up reports whether every check is up.
func (s *ServerState) Up() bool { return s.up }

// DynamicWeight is the weight a misc_dynamic check set, or nil.
func (s *ServerState) DynamicWeight() *int { return s.weight }

// Failures is the largest count of consecutive failures among the checks.
func (s *ServerState) Failures() int {
	n := 0
	for i := range s.checks {
		n = max(n, s.checks[i].failures)
	}
	return n
}

// Transition is what one result did to a server.
type Transition struct {
	// Next is the delay until this check runs again.
	Next time.Duration
	// Changed is true when the server went up or down.
	Changed bool
	// WeightChanged is true when a misc_dynamic check changed the server's weight.
	WeightChanged bool
	// Up is the server's state after the result.
	Up bool
	// Cause explains the result, e.g. "connect 10.0.0.5:80: connection refused, 3rd failure".
	Cause string
}

// Observe steps check i with result r obtained at now.
func (s *ServerState) Observe(i int, r Result, now time.Time) Transition {
	cs := &s.checks[i]
	next, checkChanged := cs.Observe(r)
	s.LastWhy, s.LastTime, s.LastLatency = r.Why, now, r.Latency
	s.Durations.Observe(r.Latency)

	t := Transition{Next: next, Cause: r.Why}
	if !r.Up {
		t.Cause = fmt.Sprintf("%s, %s failure", r.Why, ordinal(cs.failures))
	}
	if r.Up && !equalWeight(s.weight, r.Weight) {
		// keepalived resets the dynamic weight on exit 0 and sets it on exit 2-255; a
		// failure leaves it (it only matters while the server is up).
		s.weight = r.Weight
		t.WeightChanged = true
	}
	if checkChanged && !cs.up && s.weight != nil {
		// keepalived drops the dynamic part of the weight when a misc check goes down.
		s.weight = nil
		t.WeightChanged = true
	}
	up := true
	for j := range s.checks {
		if !s.checks[j].up {
			up = false
			break
		}
	}
	t.Changed = up != s.up
	s.up = up
	t.Up = up
	return t
}

func equalWeight(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
