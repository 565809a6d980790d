package vrrp

import (
	"net/netip"
	"slices"
	"time"
)

// This file is the pure RFC 3768 (section 6.4) state machine: events in (Start, Advert,
// Tick, Link, Shutdown), actions out (SendAdvert, AddVIPs, RemoveVIPs, SendGARP,
// Transition), time passed in as `now`. It performs no I/O and starts no goroutine; the
// runner (instance.go) turns its actions into packets, netlink calls and notifications,
// and arms one timer at NextDeadline. All timers (Master_Down_Timer, Adver_Timer,
// preempt_delay, the delayed GARP burst of garp_master_delay) are deadlines kept here, so
// "schedule a GARP burst" is not an action: Tick emits SendGARP when it is due.
//
// Choices where the RFC leaves room, and what keepalived 2.2.7 does:
//   - Initial state MASTER of a non-owner: BACKUP with Master_Down_Timer set to
//     Advertisement_Interval + Skew_Time (keepalived: "the simplest way to become master
//     is to timeout from the backup state very quickly"). It listens for one interval
//     before claiming the addresses, so a restart never steals them from a better master.
//     Priority 255 (owner) is MASTER at once, whatever the initial state.
//   - Entering BACKUP from start-up or FAULT removes the VIPs (idempotent): a crashed
//     previous run may have left them.
//   - preempt_delay (keepalived): counted from the first lower-priority advert seen; until
//     it runs out that master is followed; then we take over at once (ReasonPreempt).
//     Without a delay the RFC applies: lower adverts are discarded, so Master_Down_Timer
//     runs out (also reported as ReasonPreempt).
//   - A master hearing a lower-ranked advert (lower priority, or equal priority and lower
//     address) answers at once with an advert and a GARP burst instead of waiting for its
//     Adver_Timer: a split brain heals within one round trip and ARP caches follow.
//   - FAULT: interface or any track_interface down. A master first resigns (priority-0
//     advert, so a backup takes over after Skew_Time) and removes its VIPs. When all
//     links are up again: BACKUP with a full Master_Down_Interval, or MASTER if owner.
//   - Shutdown: a master resigns with priority 0; VIPs are removed; the machine ends in
//     INIT (the runner reports that as the notify_stop notification).

// Reason is the cause of a state transition; every transition carries one and the runner
// logs it.
type Reason int

const (
	ReasonNone           Reason = iota
	ReasonStartup               // Initialize -> Backup
	ReasonOwner                 // priority 255: the address owner is master at once
	ReasonMasterDown            // Master_Down_Timer fired: no advert from a master
	ReasonPriorityZero          // the master resigned (priority-0 advert), we took over after Skew_Time
	ReasonPreempt               // we outrank the current master and preempt it
	ReasonHigherPriority        // a master with a higher priority (or equal and higher IP) exists
	ReasonInterfaceDown         // our interface went down
	ReasonTrackDown             // a track_interface went down
	ReasonInterfaceUp           // every watched interface is up again
	ReasonShutdown              // we are stopping
	ReasonTrackFailed           // a tracked script or file with weight 0 failed
	ReasonTrackRecovered        // every fault source cleared (tracked items, sync group)
	ReasonSyncGroup             // another member of our sync group changed state
)

var reasonNames = [...]string{
	ReasonNone:           "none",
	ReasonStartup:        "startup",
	ReasonOwner:          "address owner (priority 255)",
	ReasonMasterDown:     "master down timer expired",
	ReasonPriorityZero:   "master resigned (priority 0 advert)",
	ReasonPreempt:        "preempting lower priority master",
	ReasonHigherPriority: "higher priority master seen",
	ReasonInterfaceDown:  "interface down",
	ReasonTrackDown:      "tracked interface down",
	ReasonInterfaceUp:    "interfaces up",
	ReasonShutdown:       "shutdown",
	ReasonTrackFailed:    "tracked script or file failed",
	ReasonTrackRecovered: "tracked items recovered",
	ReasonSyncGroup:      "sync group",
}

func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Action is one effect the machine asks for. The runner executes actions in order.
type Action interface{ action() }

// SendAdvert: send one advertisement with this priority (0 = we resign).
type SendAdvert struct{ Priority uint8 }

// AddVIPs: add every virtual address.
type AddVIPs struct{}

// RemoveVIPs: remove every virtual address.
type RemoveVIPs struct{}

// SendGARP: one burst of gratuitous ARPs. The machine asks for one burst on becoming
// master, another GARPDelay later, one (and another LowerPrioDelay later) when it answers
// a lower priority master (split brain), and one every RefreshInterval while master.
type SendGARP struct{ Kind GARPKind }

// GARPKind says why a GARP burst is sent; the runner takes its size from it.
type GARPKind int

const (
	GARPMaster    GARPKind = iota // becoming master, and garp_master_delay later
	GARPLowerPrio                 // answering a lower priority master (garp_lower_prio_*)
	GARPRefresh                   // garp_master_refresh
)

func (k GARPKind) String() string {
	switch k {
	case GARPLowerPrio:
		return "lower priority master seen"
	case GARPRefresh:
		return "refresh"
	}
	return "became master"
}

// PriorityChange: the effective priority changed (tracked items); the runner logs it and
// shows it in status. A master has already been asked to advertise it (SendAdvert).
type PriorityChange struct{ From, To uint8 }

// Transition: the state changed; the runner logs it and tells the Notifier.
type Transition struct {
	From, To State
	Reason   Reason
}

func (SendAdvert) action()     {}
func (AddVIPs) action()        {}
func (RemoveVIPs) action()     {}
func (SendGARP) action()       {}
func (Transition) action()     {}
func (PriorityChange) action() {}

// MachineConfig is what the state machine needs of an instance's configuration.
type MachineConfig struct {
	Priority     uint8         // 1-255; 255 = address owner
	AdvertInt    time.Duration // Advertisement_Interval
	Preempt      bool          // false = keepalived's nopreempt
	PreemptDelay time.Duration // wait this long after first seeing a lower priority master
	PrimaryIP    netip.Addr    // our address, for the equal-priority tie-break
	// InitialState MASTER (keepalived's `state MASTER`) of a non-owner starts as BACKUP with
	// a short Master_Down_Timer (Advertisement_Interval + Skew_Time) instead of the full
	// one, as keepalived 2.x does: the router becomes master quickly unless it hears a
	// better master first, and it never grabs the addresses without listening.
	InitialState State
	GARPDelay    time.Duration // second GARP burst this long after becoming master; 0 = none
	Interface    string        // down => FAULT (ReasonInterfaceDown)
	Track        []string      // any down => FAULT (ReasonTrackDown), unless in Tracked with a weight
	// Version3: RFC 5798 timers. Skew_Time scales with Master_Adver_Interval, which a
	// backup learns from the master's adverts (see AdvertV3).
	Version3 bool
	// Tracked items (see Tracked); an interface here is reported through Link.
	Tracked []Tracked
	// LowerPrioDelay: second GARP burst this long after answering a lower priority
	// master; 0 = none. RefreshInterval: a GARP burst this often while master; 0 = none.
	LowerPrioDelay  time.Duration
	RefreshInterval time.Duration
}

// Machine is the VRRP state machine of one virtual router. Not safe for concurrent use:
// the runner owns it.
type Machine struct {
	cfg   MachineConfig
	state State

	// Deadlines; the zero time means not armed.
	masterDown time.Time // Backup: Master_Down_Timer
	adver      time.Time // Master: Adver_Timer
	preemptAt  time.Time // Backup: preempt_delay running
	garpAt     time.Time // Master: delayed GARP burst

	lowerGARPAt time.Time // Master: second burst after answering a lower master
	refreshAt   time.Time // Master: garp_master_refresh

	downReason   Reason    // pending takeover's reason when masterDown fires
	answerGARPAt time.Time // last GARP burst sent in answer to a lower master

	prio       uint8 // effective priority: cfg.Priority adjusted by the tracked items
	tracked    []Tracked
	results    map[string]TrackResult // by Tracked.Key; absent = OK (no result yet)
	syncFault  bool                   // our sync group is in FAULT because of another member
	masterIP   netip.Addr
	masterPrio uint8
	// VRRPv3: Master_Adver_Interval learned from the master (0: our own interval), and
	// the interval of the advert being handled (set by AdvertV3 for the duration of it).
	masterAdverInt time.Duration
	rxInterval     time.Duration
	linksDown      map[string]bool
	started        bool
	stopped        bool
	lastReason     Reason
	lastChangeAt   time.Time
}

// NewMachine returns a machine in StateInit; Start begins the protocol.
func NewMachine(cfg MachineConfig) *Machine {
	m := &Machine{cfg: cfg, state: StateInit, linksDown: map[string]bool{}, prio: cfg.Priority,
		results: map[string]TrackResult{}}
	m.setTracked(cfg)
	return m
}

// setTracked takes the tracked items of cfg (Track names not in Tracked have weight 0),
// keeping the results of those still tracked.
func (m *Machine) setTracked(cfg MachineConfig) {
	m.tracked = append([]Tracked(nil), cfg.Tracked...)
	for _, name := range cfg.Track {
		if m.trackedInterface(name) < 0 {
			m.tracked = append(m.tracked, Tracked{Kind: TrackInterface, Name: name})
		}
	}
	for key := range m.results {
		if !slices.ContainsFunc(m.tracked, func(t Tracked) bool { return t.Key() == key }) {
			delete(m.results, key)
		}
	}
}

// Priority is the effective priority: what we advertise and compare.
func (m *Machine) Priority() uint8 { return m.prio }

func (m *Machine) trackedInterface(name string) int {
	for i, t := range m.tracked {
		if t.Kind == TrackInterface && t.Name == name {
			return i
		}
	}
	return -1
}

// State is the current state.
func (m *Machine) State() State { return m.state }

// MasterIP is the address of the current master: ours when we are master, the last
// accepted advert's source when backup, invalid otherwise.
func (m *Machine) MasterIP() netip.Addr {
	switch m.state {
	case StateMaster:
		return m.cfg.PrimaryIP
	case StateBackup:
		return m.masterIP
	}
	return netip.Addr{}
}

// SkewTime is (256 - Priority)/256 seconds (RFC 3768 section 6.1); in VRRPv3 it is
// ((256 - Priority) * Master_Adver_Interval)/256 (RFC 5798 section 6.1).
func (m *Machine) SkewTime() time.Duration {
	if m.cfg.Version3 {
		return time.Duration(256-int(m.prio)) * m.MasterAdverInterval() / 256
	}
	return time.Duration(256-int(m.prio)) * time.Second / 256
}

// MasterAdverInterval is the master's advertisement interval: in VRRPv3 the one a backup
// learned from the master's adverts, else (and until one is learned) our own.
func (m *Machine) MasterAdverInterval() time.Duration {
	if m.cfg.Version3 && m.masterAdverInt > 0 {
		return m.masterAdverInt
	}
	return m.cfg.AdvertInt
}

// MasterDownInterval is 3 x Master_Adver_Interval + Skew_Time.
func (m *Machine) MasterDownInterval() time.Duration {
	return 3*m.MasterAdverInterval() + m.SkewTime()
}

// learnInterval is RFC 5798 section 6.4.2's "Set Master_Adver_Interval to Adver Interval
// contained in the ADVERTISEMENT" for an advert a backup follows.
func (m *Machine) learnInterval() {
	if m.cfg.Version3 && m.rxInterval > 0 {
		m.masterAdverInt = m.rxInterval
	}
}

// AdvertV3 is Advert for a VRRPv3 advert that carried interval.
func (m *Machine) AdvertV3(now time.Time, src netip.Addr, prio uint8, interval time.Duration) []Action {
	m.rxInterval = interval
	defer func() { m.rxInterval = 0 }()
	return m.Advert(now, src, prio)
}

// NextDeadline is the earliest armed timer; ok is false when none is.
func (m *Machine) NextDeadline() (t time.Time, ok bool) {
	for _, d := range []time.Time{m.masterDown, m.adver, m.preemptAt, m.garpAt, m.lowerGARPAt, m.refreshAt} {
		if !d.IsZero() && (!ok || d.Before(t)) {
			t, ok = d, true
		}
	}
	return t, ok
}

func (m *Machine) clearTimers() {
	m.masterDown, m.adver, m.preemptAt, m.garpAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	m.lowerGARPAt, m.refreshAt = time.Time{}, time.Time{}
	m.downReason = ReasonNone
}

// evaluate computes, from every fault source and tracked result, whether we are in
// FAULT (and why) and the effective priority.
func (m *Machine) evaluate() (fault bool, why Reason, prio uint8) {
	if m.linksDown[m.cfg.Interface] {
		fault, why = true, ReasonInterfaceDown
	}
	adjust := 0
	for _, t := range m.tracked {
		r, ok := m.results[t.Key()]
		if !ok {
			continue // no result yet: neither failed nor adjusting
		}
		adj, f := t.Effect(r)
		if f && !fault {
			fault, why = true, ReasonTrackFailed
			if t.Kind == TrackInterface {
				why = ReasonTrackDown
			}
		}
		adjust += adj
	}
	if m.syncFault && !fault {
		fault, why = true, ReasonSyncGroup
	}
	return fault, why, EffectivePriority(m.cfg.Priority, adjust)
}

// reevaluate applies a change of a fault source or tracked result: FAULT entered or left,
// or the effective priority changed (a master advertises it at once).
func (m *Machine) reevaluate(now time.Time) []Action {
	fault, why, prio := m.evaluate()
	var acts []Action
	if prio != m.prio {
		acts = append(acts, PriorityChange{From: m.prio, To: prio})
		m.prio = prio
		if m.started && !m.stopped && m.state == StateMaster && !fault {
			acts = append(acts, SendAdvert{Priority: m.prio})
			m.adver = now.Add(m.cfg.AdvertInt)
		}
	}
	if !m.started || m.stopped {
		return acts
	}
	switch {
	case fault && m.state != StateFault:
		if m.state == StateMaster {
			// Resign first so a backup takes over after Skew_Time, not 3 intervals.
			acts = append(acts, SendAdvert{Priority: PriorityStop}, RemoveVIPs{})
		}
		m.clearTimers()
		return m.transition(now, StateFault, why, acts)
	case !fault && m.state == StateFault:
		r := ReasonInterfaceUp
		if m.lastReason != ReasonInterfaceDown && m.lastReason != ReasonTrackDown {
			r = ReasonTrackRecovered
		}
		return m.enterFromInit(now, r, acts)
	}
	return acts
}

func (m *Machine) transition(now time.Time, to State, r Reason, acts []Action) []Action {
	from := m.state
	m.state = to
	m.lastReason, m.lastChangeAt = r, now
	return append(acts, Transition{From: from, To: to, Reason: r})
}

// becomeMaster: RFC 6.4.1/6.4.2 "transition to Master": advert, addresses, ARP.
func (m *Machine) becomeMaster(now time.Time, r Reason, acts []Action) []Action {
	m.clearTimers()
	acts = append(acts, SendAdvert{Priority: m.prio}, AddVIPs{}, SendGARP{})
	m.adver = now.Add(m.cfg.AdvertInt)
	if m.cfg.GARPDelay > 0 {
		m.garpAt = now.Add(m.cfg.GARPDelay)
	}
	if m.cfg.RefreshInterval > 0 {
		m.refreshAt = now.Add(m.cfg.RefreshInterval)
	}
	m.masterIP = m.cfg.PrimaryIP
	m.masterPrio = m.prio
	return m.transition(now, StateMaster, r, acts)
}

// becomeBackup arms Master_Down_Timer with d.
func (m *Machine) becomeBackup(now time.Time, d time.Duration, r Reason, acts []Action) []Action {
	m.clearTimers()
	m.masterDown = now.Add(d)
	m.downReason = ReasonMasterDown
	m.masterIP = netip.Addr{}
	m.masterPrio = 0
	m.masterAdverInt = 0 // RFC 5798 6.4.1: Master_Adver_Interval = Advertisement_Interval
	return m.transition(now, StateBackup, r, acts)
}

// enterFromInit is what Initialize does on Startup (RFC 6.4.1), also used when FAULT ends.
func (m *Machine) enterFromInit(now time.Time, r Reason, acts []Action) []Action {
	if m.cfg.Priority == PriorityOwner {
		if r == ReasonStartup {
			r = ReasonOwner
		}
		return m.becomeMaster(now, r, acts)
	}
	d := m.MasterDownInterval()
	if m.cfg.InitialState == StateMaster && r == ReasonStartup {
		d = m.cfg.AdvertInt + m.SkewTime()
	}
	// Remove addresses a previous run (crash) may have left: a backup must not hold them.
	acts = append(acts, RemoveVIPs{})
	return m.becomeBackup(now, d, r, acts)
}

// Start is the Startup event.
func (m *Machine) Start(now time.Time) []Action {
	if m.started || m.stopped {
		return nil
	}
	m.started = true
	if fault, why, _ := m.evaluate(); fault {
		return m.transition(now, StateFault, why, []Action{RemoveVIPs{}})
	}
	return m.enterFromInit(now, ReasonStartup, nil)
}

// Tick fires every deadline that is due at now.
func (m *Machine) Tick(now time.Time) []Action {
	if !m.started || m.stopped {
		return nil
	}
	var acts []Action
	due := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	switch m.state {
	case StateBackup:
		if due(m.masterDown) {
			return m.becomeMaster(now, m.downReason, acts)
		}
		if due(m.preemptAt) {
			return m.becomeMaster(now, ReasonPreempt, acts)
		}
	case StateMaster:
		if due(m.garpAt) {
			m.garpAt = time.Time{}
			acts = append(acts, SendGARP{})
		}
		if due(m.lowerGARPAt) {
			m.lowerGARPAt = time.Time{}
			acts = append(acts, SendGARP{Kind: GARPLowerPrio})
		}
		if due(m.refreshAt) {
			m.refreshAt = now.Add(m.cfg.RefreshInterval)
			acts = append(acts, SendGARP{Kind: GARPRefresh})
		}
		if due(m.adver) {
			acts = append(acts, SendAdvert{Priority: m.prio})
			m.adver = now.Add(m.cfg.AdvertInt)
		}
	}
	return acts
}

// higherThanUs reports whether an advert's sender outranks us: higher priority, or equal
// priority and a higher primary address (RFC 3768 section 6.4.3).
func (m *Machine) higherThanUs(src netip.Addr, prio uint8) bool {
	if prio != m.prio {
		return prio > m.prio
	}
	return src.Compare(m.cfg.PrimaryIP) > 0
}

// Advert is the reception of an advertisement that passed the receive checks.
func (m *Machine) Advert(now time.Time, src netip.Addr, prio uint8) []Action {
	if !m.started || m.stopped {
		return nil
	}
	switch m.state {
	case StateBackup:
		if prio == PriorityStop {
			// RFC 6.4.2: the master resigned; take over after Skew_Time unless a
			// better backup speaks first.
			m.masterDown = now.Add(m.SkewTime())
			m.downReason = ReasonPriorityZero
			m.preemptAt = time.Time{}
			return nil
		}
		if prio >= m.prio || !m.cfg.Preempt {
			m.learnInterval()
			m.masterDown = now.Add(m.MasterDownInterval())
			m.downReason = ReasonMasterDown
			m.masterIP, m.masterPrio = src, prio
			m.preemptAt = time.Time{}
			return nil
		}
		// A lower priority master and we preempt.
		if m.cfg.PreemptDelay > 0 {
			// keepalived's preempt_delay: accept this master until the delay
			// (counted from the first lower advert seen) has run out.
			if m.preemptAt.IsZero() {
				m.preemptAt = now.Add(m.cfg.PreemptDelay)
			}
			m.learnInterval()
			m.masterDown = now.Add(m.MasterDownInterval())
			m.downReason = ReasonMasterDown
			m.masterIP, m.masterPrio = src, prio
			return nil
		}
		// RFC: discard the advert (Master_Down_Timer is not reset), so the timer runs
		// out and we take over.
		m.downReason = ReasonPreempt
		m.masterIP, m.masterPrio = src, prio
		return nil
	case StateMaster:
		if prio == PriorityStop {
			// RFC 6.4.3: answer a resigning router with an advert at once.
			m.adver = now.Add(m.cfg.AdvertInt)
			return []Action{SendAdvert{Priority: m.prio}}
		}
		if m.higherThanUs(src, prio) {
			acts := []Action{RemoveVIPs{}}
			acts = m.becomeBackup(now, m.MasterDownInterval(), ReasonHigherPriority, acts)
			m.masterIP, m.masterPrio = src, prio
			if m.cfg.Version3 {
				// RFC 5798 6.4.3: follow the new master's interval.
				m.learnInterval()
				m.masterDown = now.Add(m.MasterDownInterval())
			}
			return acts
		}
		if prio == m.prio && src == m.cfg.PrimaryIP {
			// Our own address and priority: a looped-back advert or a duplicate address.
			// Answering would start an advert ping-pong; ignore it.
			return nil
		}
		// Another master that ranks below us (split brain healed): assert ourselves now
		// instead of waiting for Adver_Timer, and refresh the ARP caches it may have
		// taken over. The GARP burst is limited to one per Master_Down_Interval, so a
		// router that cannot hear us (one-way link) does not make us flood ARP.
		m.adver = now.Add(m.cfg.AdvertInt)
		acts := []Action{SendAdvert{Priority: m.prio}}
		if m.answerGARPAt.IsZero() || now.Sub(m.answerGARPAt) >= m.MasterDownInterval() {
			m.answerGARPAt = now
			acts = append(acts, SendGARP{Kind: GARPLowerPrio})
			if m.cfg.LowerPrioDelay > 0 {
				m.lowerGARPAt = now.Add(m.cfg.LowerPrioDelay)
			}
		}
		return acts
	}
	return nil
}

// Link is an interface's operational state change (for the instance's interface or a
// tracked one).
func (m *Machine) Link(now time.Time, name string, up bool) []Action {
	tracked := m.trackedInterface(name) >= 0
	if name != m.cfg.Interface && !tracked {
		return nil
	}
	if name == m.cfg.Interface {
		if up {
			delete(m.linksDown, name)
		} else {
			m.linksDown[name] = true
		}
	}
	if tracked {
		m.results[TrackInterface.String()+":"+name] = TrackResult{OK: up}
	}
	return m.reevaluate(now)
}

// Track is a new result of a tracked script or file (interfaces come through Link). An
// unknown key is ignored.
func (m *Machine) Track(now time.Time, key string, r TrackResult) []Action {
	known := false
	for _, t := range m.tracked {
		known = known || t.Key() == key
	}
	if !known {
		return nil
	}
	if old, ok := m.results[key]; ok && old == r {
		return nil
	}
	m.results[key] = r
	return m.reevaluate(now)
}

// SyncFault is our sync group entering (on) or leaving FAULT because of another member.
func (m *Machine) SyncFault(now time.Time, on bool) []Action {
	if m.syncFault == on {
		return nil
	}
	m.syncFault = on
	return m.reevaluate(now)
}

// SyncState is another member of our sync group becoming MASTER or BACKUP by itself: we
// follow (keepalived's sync group semantics). FAULT is SyncFault's.
func (m *Machine) SyncState(now time.Time, to State) []Action {
	if !m.started || m.stopped {
		return nil
	}
	switch {
	case to == StateMaster && m.state == StateBackup:
		return m.becomeMaster(now, ReasonSyncGroup, nil)
	case to == StateBackup && m.state == StateMaster:
		acts := []Action{RemoveVIPs{}}
		return m.becomeBackup(now, m.MasterDownInterval(), ReasonSyncGroup, acts)
	}
	return nil
}

// Reconfigure changes the configuration of a running machine in place (a reload): the
// state is kept and no transition is caused by the change itself. A master announces at
// once (advertChanged: what it advertises changed, e.g. the address list, or its priority
// or interval did) and re-arms its Adver_Timer, so the other routers judge the new
// priority now. A backup applies the new priority and preempt settings to the next advert
// it hears, as RFC 3768 section 6.4.2 says (a raised priority preempts a lower master
// then); a backup that becomes the address owner (255) takes over at once.
func (m *Machine) Reconfigure(now time.Time, cfg MachineConfig, advertChanged bool) []Action {
	old, oldPrio := m.cfg, m.prio
	m.cfg = cfg
	for name := range m.linksDown {
		if name != cfg.Interface {
			delete(m.linksDown, name) // no longer our interface
		}
	}
	m.setTracked(cfg)
	if !m.started || m.stopped {
		_, _, m.prio = m.evaluate()
		return nil
	}
	// Tracked items or the configured priority may have changed the effective priority
	// (a master advertises it at once) or whether we are in FAULT.
	acts := m.reevaluate(now)
	switch m.state {
	case StateMaster:
		m.masterIP, m.masterPrio = cfg.PrimaryIP, m.prio
		if cfg.GARPDelay == 0 {
			m.garpAt = time.Time{}
		}
		switch {
		case cfg.RefreshInterval == 0:
			m.refreshAt = time.Time{}
		case m.refreshAt.IsZero() || old.RefreshInterval != cfg.RefreshInterval:
			m.refreshAt = now.Add(cfg.RefreshInterval)
		}
		if m.prio == oldPrio && (advertChanged || old.AdvertInt != cfg.AdvertInt) {
			m.adver = now.Add(cfg.AdvertInt)
			acts = append(acts, SendAdvert{Priority: m.prio})
		}
	case StateBackup:
		if cfg.Priority == PriorityOwner && old.Priority != PriorityOwner {
			return m.becomeMaster(now, ReasonOwner, acts)
		}
		if !cfg.Preempt || cfg.PreemptDelay == 0 {
			m.preemptAt = time.Time{}
		}
	}
	return acts
}

// Shutdown is the Shutdown event: a master resigns (priority-0 advert) and every address
// is removed; the machine ends in StateInit and ignores every later event.
func (m *Machine) Shutdown(now time.Time) []Action {
	if m.stopped {
		return nil
	}
	m.stopped = true
	var acts []Action
	if m.state == StateMaster {
		acts = append(acts, SendAdvert{Priority: PriorityStop})
	}
	acts = append(acts, RemoveVIPs{})
	m.clearTimers()
	return m.transition(now, StateInit, ReasonShutdown, acts)
}
