package healthcheck

import (
	"fmt"
	"net/netip"
	"slices"
)

// Dest is one destination the virtual server should have in IPVS.
type Dest struct {
	Address netip.AddrPort
	Weight  int
	// Sorry marks the sorry server.
	Sorry bool
}

func (d Dest) String() string {
	s := fmt.Sprintf("%s w%d", d.Address, d.Weight)
	if d.Sorry {
		s += " sorry"
	}
	return s
}

// PoolServer is one real server as the pool logic sees it.
type PoolServer struct {
	Address netip.AddrPort
	// Weight is the configured weight.
	Weight int
	Up     bool
	// Inhibit is inhibit_on_failure: a down server stays with weight 0 instead of removal.
	Inhibit bool
	// DynamicWeight, when set by misc_dynamic, replaces Weight.
	DynamicWeight *int
}

func (s PoolServer) weight() int {
	if s.DynamicWeight != nil {
		return *s.DynamicWeight
	}
	return s.Weight
}

// PoolConfig is the virtual server's pool policy.
type PoolConfig struct {
	// Quorum is the minimum sum of live weights (keepalived default 1).
	Quorum int
	// Hysteresis: quorum is lost below Quorum-Hysteresis and regained at
	// Quorum+Hysteresis.
	Hysteresis int
	// SorryServer is used while quorum is lost (zero: none).
	SorryServer netip.AddrPort
	// SorryWeight is the sorry server's weight (0: 1, keepalived's default).
	SorryWeight int
}

// EventKind is what happened to a real server or virtual server.
type EventKind int

// Event kinds; each maps to a hook (notify_up, notify_down, quorum_up, quorum_down).
const (
	ServerUp EventKind = iota + 1
	ServerDown
	QuorumUp
	QuorumDown
)

func (k EventKind) String() string {
	switch k {
	case ServerUp:
		return "notify_up"
	case ServerDown:
		return "notify_down"
	case QuorumUp:
		return "quorum_up"
	case QuorumDown:
		return "quorum_down"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a hook to fire. Server is set for ServerUp/ServerDown.
type Event struct {
	Kind   EventKind
	Server netip.AddrPort
	Cause  string
}

// Pool turns the real servers' states into the virtual server's destinations, following
// keepalived's ipwrapper.c:
//   - an up server gets its weight (the misc_dynamic weight when set);
//   - a down server is removed, or kept at weight 0 with inhibit_on_failure;
//   - quorum is the sum of the up servers' weights; while quorum is up it is lost when the
//     sum falls below Quorum-Hysteresis (or to 0); while down it is regained when the sum
//     reaches Quorum+Hysteresis; at start it is up when the sum >= Quorum+Hysteresis;
//   - while quorum is lost and a sorry server is configured, the sorry server is the
//     destination and the live real servers are removed (perform_quorum_state(vs, false):
//     "Remove remaining alive real servers"); inhibited down servers stay at weight 0.
//     Without a sorry server, losing quorum changes no destination, only fires quorum_down.
type Pool struct {
	cfg      PoolConfig
	started  bool
	quorumUp bool
	prevUp   map[netip.AddrPort]bool
}

// NewPool returns a pool for cfg; its first Update sets the initial quorum state.
func NewPool(cfg PoolConfig) *Pool {
	return &Pool{cfg: cfg, prevUp: map[netip.AddrPort]bool{}}
}

// Reconfigure changes the pool's policy and forgets the servers not in keep, keeping the
// quorum state: the next Update compares against the new thresholds (a reload does not
// start the pool over).
func (p *Pool) Reconfigure(cfg PoolConfig, keep []netip.AddrPort) {
	p.cfg = cfg
	kept := make(map[netip.AddrPort]bool, len(keep))
	for _, a := range keep {
		kept[a] = true
	}
	for a := range p.prevUp {
		if !kept[a] {
			delete(p.prevUp, a)
		}
	}
}

// QuorumUp reports the current quorum state.
func (p *Pool) QuorumUp() bool { return p.quorumUp }

// SorryActive reports whether the sorry server is in use.
func (p *Pool) SorryActive() bool { return p.started && !p.quorumUp && p.cfg.SorryServer.IsValid() }

// Update computes the destinations for servers and the events since the previous Update.
// The first Update fires no server event (initial states are not transitions) but fires
// quorum_down when the pool starts without quorum, as keepalived does at start-up.
func (p *Pool) Update(servers []PoolServer) ([]Dest, []Event) {
	var events []Event
	sum := 0
	for _, s := range servers {
		if s.Up {
			sum += s.weight()
		}
		if prev, ok := p.prevUp[s.Address]; p.started && ok && prev != s.Up {
			kind := ServerDown
			if s.Up {
				kind = ServerUp
			}
			events = append(events, Event{Kind: kind, Server: s.Address})
		}
		p.prevUp[s.Address] = s.Up
	}

	if !p.started {
		p.started = true
		p.quorumUp = sum >= p.cfg.Quorum+p.cfg.Hysteresis
		if !p.quorumUp {
			events = append(events, Event{Kind: QuorumDown, Cause: fmt.Sprintf(
				"starting with quorum down: live weight %d < %d+%d", sum, p.cfg.Quorum, p.cfg.Hysteresis)})
		}
	} else if !p.quorumUp {
		if threshold := p.cfg.Quorum + p.cfg.Hysteresis; sum >= threshold {
			p.quorumUp = true
			events = append(events, Event{Kind: QuorumUp, Cause: fmt.Sprintf(
				"gained quorum: live weight %d >= %d+%d", sum, p.cfg.Quorum, p.cfg.Hysteresis)})
		}
	} else if threshold := p.cfg.Quorum - p.cfg.Hysteresis; sum == 0 || sum < threshold {
		p.quorumUp = false
		events = append(events, Event{Kind: QuorumDown, Cause: fmt.Sprintf(
			"lost quorum: live weight %d < %d-%d", sum, p.cfg.Quorum, p.cfg.Hysteresis)})
	}

	sorry := p.SorryActive()
	var dests []Dest
	for _, s := range servers {
		switch {
		case s.Up && !sorry:
			dests = append(dests, Dest{Address: s.Address, Weight: s.weight()})
		case !s.Up && s.Inhibit:
			dests = append(dests, Dest{Address: s.Address, Weight: 0})
		}
	}
	if sorry {
		w := p.cfg.SorryWeight
		if w == 0 {
			w = 1
		}
		dests = append(dests, Dest{Address: p.cfg.SorryServer, Weight: w, Sorry: true})
	}
	slices.SortFunc(dests, func(a, b Dest) int { return a.Address.Compare(b.Address) })
	return dests, events
}
