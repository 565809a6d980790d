// Package track runs keepalived's tracked items for VRRP: vrrp_script (a command run
// periodically, its exit status counted with rise/fall) and vrrp_track_file (an integer
// read from a file when it changes). It reports results through a callback and knows
// nothing of VRRP: the daemon feeds them into the instances that track them.
package track

// Counter is the pure rise/fall logic of a vrrp_script: the first result decides (before it,
// the state is the initial one: failed with init_fail, else OK); after that, Rise
// consecutive successes turn a failed script OK and Fall consecutive failures turn an OK
// one failed.
type Counter struct {
	rise, fall int
	ok         bool
	decided    bool
	streak     int // consecutive results against the current state
}

// NewCounter returns a counter in its initial state.
func NewCounter(rise, fall int, initFail bool) *Counter {
	return &Counter{rise: max(rise, 1), fall: max(fall, 1), ok: !initFail}
}

// OK is the current state.
func (c *Counter) OK() bool { return c.ok }

// Add counts one result and reports whether the state changed.
func (c *Counter) Add(success bool) (changed bool) {
	if !c.decided {
		c.decided = true
		c.streak = 0
		changed = c.ok != success
		c.ok = success
		return changed
	}
	if success == c.ok {
		c.streak = 0
		return false
	}
	c.streak++
	need := c.fall
	if !c.ok {
		need = c.rise
	}
	if c.streak < need {
		return false
	}
	c.ok, c.streak = success, 0
	return true
}
