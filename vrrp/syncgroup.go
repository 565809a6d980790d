package vrrp

// SyncCoordinator is the pure logic of a vrrp_sync_group (keepalived's semantics): one
// member in FAULT puts every member in FAULT; a member that becomes MASTER or BACKUP by
// itself takes the others along. It is told of every member's transition and answers with
// orders for the other members. Transitions the coordinator itself caused (reason
// ReasonSyncGroup) are not propagated again, so orders never loop. Not safe for concurrent
// use: its owner serialises calls.
type SyncCoordinator struct {
	name     string
	members  []string
	states   map[string]State
	ownFault map[string]bool // members in FAULT for a reason of their own
	state    State           // the group's state, StateInit until a member reports
}

// SyncOrder is what the coordinator asks of one member: Fault set means enter (true) or
// leave (false) the group's FAULT (Machine.SyncFault); otherwise follow State
// (Machine.SyncState).
type SyncOrder struct {
	Member string
	Fault  *bool
	State  State
}

// NewSyncCoordinator returns a coordinator for the named members.
func NewSyncCoordinator(name string, members []string) *SyncCoordinator {
	return &SyncCoordinator{name: name, members: append([]string(nil), members...), states: map[string]State{},
		ownFault: map[string]bool{}}
}

// Name is the group's name.
func (g *SyncCoordinator) Name() string { return g.name }

// State is the group's state: FAULT while any member is in FAULT of its own, else the
// state the members last moved to together.
func (g *SyncCoordinator) State() State { return g.state }

// Observe takes one member's transition and returns the orders for the other members and
// whether the group's state changed (then State() is the new one: group notify time).
func (g *SyncCoordinator) Observe(member string, t Transition) (orders []SyncOrder, changed bool) {
	if !g.isMember(member) {
		return nil, false
	}
	g.states[member] = t.To
	before := g.state
	wasFault := g.anyOwnFault()
	switch {
	case t.To == StateFault && t.Reason != ReasonSyncGroup:
		g.ownFault[member] = true
	case t.To != StateFault:
		delete(g.ownFault, member)
	}
	fault := g.anyOwnFault()
	switch {
	case fault && !wasFault:
		on := true
		for _, m := range g.others(member) {
			orders = append(orders, SyncOrder{Member: m, Fault: &on})
		}
		g.state = StateFault
	case !fault && wasFault:
		off := false
		for _, m := range g.others(member) {
			orders = append(orders, SyncOrder{Member: m, Fault: &off})
		}
		g.state = t.To
	case fault:
		// still in FAULT because of another member
	case t.To == StateInit:
		g.state = StateInit // stopping
	case t.Reason != ReasonSyncGroup && (t.To == StateMaster || t.To == StateBackup):
		for _, m := range g.others(member) {
			if s := g.states[m]; s != t.To && s != StateFault && s != StateInit {
				orders = append(orders, SyncOrder{Member: m, State: t.To})
			}
		}
		g.state = t.To
	default:
		if g.allIn(t.To) {
			g.state = t.To
		}
	}
	return orders, g.state != before
}

func (g *SyncCoordinator) isMember(name string) bool {
	for _, m := range g.members {
		if m == name {
			return true
		}
	}
	return false
}

func (g *SyncCoordinator) others(name string) []string {
	var out []string
	for _, m := range g.members {
		if m != name {
			out = append(out, m)
		}
	}
	return out
}

func (g *SyncCoordinator) anyOwnFault() bool { return len(g.ownFault) > 0 }

func (g *SyncCoordinator) allIn(s State) bool {
	for _, m := range g.members {
		if g.states[m] != s {
			return false
		}
	}
	return true
}
