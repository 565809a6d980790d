package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultGARPRepeat is the number of gratuitous ARPs per VIP per burst when
// InstanceConfig.GARPRepeat is 0 (keepalived's garp_master_repeat default).
const DefaultGARPRepeat = 5

// initialLinkWait bounds how long Run waits for the initial link states.
const initialLinkWait = 500 * time.Millisecond

// dropWarnEvery rate-limits the warnings about adverts for our VRID that are dropped (or,
// for a VIP list mismatch, accepted) because the routers' configs disagree: one line per
// cause per interval, with the count of what was held back.
const dropWarnEvery = 10 * time.Second

// InstanceConfig is one vrrp_instance, already validated by the config layer; NewInstance
// checks it again so that a bad value never reaches the wire.
type InstanceConfig struct {
	Name      string
	Interface string
	// Version is Version2 (0 means 2) or Version3. A VRRPv3 instance's family is that of
	// PrimaryIP: IPv6 instances advertise from the interface's link-local address.
	Version   uint8
	VRID      uint8         // 1-255
	Priority  uint8         // 1-255; 255 = address owner
	AdvertInt time.Duration // VRRPv2: whole seconds 1-255; VRRPv3: 10ms-40.95s
	// Preempt false is keepalived's nopreempt.
	Preempt      bool
	PreemptDelay time.Duration
	AuthType     uint8 // AuthNone or AuthPass
	AuthPass     string
	VIPs         []VIP
	// PrimaryIP is our source address (unicast_src_ip, or the interface's primary IPv4,
	// or for IPv6 its link-local address): it breaks priority ties, identifies our own
	// looped-back adverts and is the source the VRRPv3 checksum covers.
	PrimaryIP netip.Addr
	// UnicastPeers: when set, adverts go to each peer instead of 224.0.0.18, and only
	// adverts from these sources are accepted.
	UnicastPeers []netip.Addr
	// InitialState StateMaster: see MachineConfig.InitialState. StateInit means BACKUP.
	InitialState State
	// GARPRepeat is the number of gratuitous ARPs per VIP per burst; 0 means
	// DefaultGARPRepeat. GARPDelay is garp_master_delay: 0 means no second burst.
	GARPRepeat      int
	GARPDelay       time.Duration
	TrackInterfaces []string
	// Tracked are the tracked items (scripts, files, weighted interfaces); an interface of
	// TrackInterfaces that is not here has weight 0 (down => FAULT). Results come through
	// Instance.Track (scripts, files) and the link watcher (interfaces).
	Tracked []Tracked
	// GARPLowerPrioRepeat: GARPs per VIP in the burst answering a lower priority master
	// (split brain healed); 0 = GARPRepeat, negative = none. GARPLowerPrioDelay: a second
	// such burst this much later (0 = none). GARPMasterRefresh: a burst this often while
	// master (0 = none).
	GARPLowerPrioRepeat int
	GARPLowerPrioDelay  time.Duration
	GARPMasterRefresh   time.Duration
}

// Deps are the effects an Instance drives. Conn, Addresses and Announcer are required.
type Deps struct {
	// Conn is owned by the Instance once passed: Run closes it on return (closing is what
	// unblocks the receive goroutine), so give each Instance its own Conn and Run once.
	Conn      Conn
	Addresses Addresses
	Announcer Announcer
	// Notifier may be nil. It is called from a goroutine owned by Run, in transition
	// order, never from the protocol loop, so a slow hook cannot delay adverts. Run
	// returns only after the Notifier returned from its last call.
	Notifier Notifier
	// Links may be nil (no link watching): then the interface is assumed up. Otherwise it
	// should come from LinkWatcher.Watch(ctx, WatchedLinks(cfg)): Run waits (briefly) for
	// the first state of each of those links before it starts the protocol, so that an
	// instance whose interface is down starts in FAULT instead of grabbing the VIPs.
	Links <-chan LinkEvent
	Clock Clock        // nil: RealClock
	Log   *slog.Logger // nil: slog.Default()
	// OnTransition, when set, is called from the protocol loop on every transition with
	// the effective priority; it must not block (a sync group posts orders to the other
	// members with Instance.SyncFault / SyncState, which never block).
	OnTransition func(name string, t Transition, priority uint8)
	// Trace, when set, is called from the protocol loop each time it has finished with
	// one input: "start" (Start applied and the timer armed), "packet", "timer", "link"
	// (initial states included) and "event" (one result or order posted with Track,
	// SyncFault or SyncState). It must not block. Tests count the calls to know that the
	// loop has caught up with what they fed it before they move fake time; production
	// leaves it nil.
	Trace func(input string)
}

// Instance runs one VRRP virtual router: it feeds the Machine with received adverts, timer
// expiries and link events, and executes its actions.
type Instance struct {
	cfg     InstanceConfig
	deps    Deps
	log     *slog.Logger
	m       *Machine
	checks  receiveChecks
	advert  Advert // template: everything but the priority
	dsts    []netip.Addr
	buf     []byte
	repeat  int
	running atomic.Bool

	mu sync.Mutex
	st Status

	warns   *warnLimiter
	holding bool   // VIPs added and not removed since: "VIP removed" is logged only then
	inbox   *inbox // events from other goroutines: tracked results, sync group orders

	reconf chan reconfRequest // Reconfigure -> Run's loop
	done   chan struct{}      // closed when Run returns
}

// NewInstance validates cfg and deps and returns an Instance ready to Run.
func NewInstance(cfg InstanceConfig, deps Deps) (*Instance, error) {
	if err := validate(&cfg); err != nil {
		return nil, fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
	}
	if deps.Conn == nil || deps.Addresses == nil || deps.Announcer == nil {
		return nil, fmt.Errorf("vrrp instance %q: Conn, Addresses and Announcer are required", cfg.Name)
	}
	if deps.Clock == nil {
		deps.Clock = RealClock{}
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	i := &Instance{
		deps:   deps,
		st:     newStatus(cfg),
		reconf: make(chan reconfRequest),
		done:   make(chan struct{}),
		warns:  newWarnLimiter(dropWarnEvery),
		inbox:  newInbox(),
	}
	i.setConfig(cfg)
	i.m = NewMachine(machineConfig(cfg))
	i.st.Tracked = i.trackStatus()
	return i, nil
}

// machineConfig is what the state machine needs of cfg.
func machineConfig(cfg InstanceConfig) MachineConfig {
	return MachineConfig{
		Priority:     cfg.Priority,
		AdvertInt:    cfg.AdvertInt,
		Preempt:      cfg.Preempt,
		PreemptDelay: cfg.PreemptDelay,
		PrimaryIP:    cfg.PrimaryIP,
		InitialState: cfg.InitialState,
		GARPDelay:    cfg.GARPDelay,
		Interface:    cfg.Interface,
		Track:        cfg.TrackInterfaces,
		Version3:     cfg.Version == Version3,
		Tracked:      cfg.Tracked,

		LowerPrioDelay:  cfg.GARPLowerPrioDelay,
		RefreshInterval: cfg.GARPMasterRefresh,
	}
}

// setConfig derives everything the runner keeps from a (validated) configuration: the
// advert template, the receive checks and the destinations.
func (i *Instance) setConfig(cfg InstanceConfig) {
	i.cfg = cfg
	i.log = i.deps.Log.With("instance", cfg.Name)
	i.repeat = cfg.GARPRepeat
	if i.repeat == 0 {
		i.repeat = DefaultGARPRepeat
	}
	i.advert = advertTemplate(cfg)
	sorted := slices.Clone(i.advert.Addrs)
	slices.SortFunc(sorted, netip.Addr.Compare)
	i.checks = receiveChecks{
		vrid:      cfg.VRID,
		owner:     cfg.Priority == PriorityOwner,
		authType:  cfg.AuthType,
		authData:  i.advert.AuthData,
		advertInt: i.advert.AdvertInt,
		version:   i.advert.Version,
		maxInt:    i.advert.MaxAdvertInt,
		addrs:     sorted,
		peers:     cfg.UnicastPeers,
		self:      cfg.PrimaryIP,
	}
	i.dsts = []netip.Addr{MulticastGroup}
	if cfg.PrimaryIP.Is6() {
		i.dsts = []netip.Addr{MulticastGroup6}
	}
	if len(cfg.UnicastPeers) > 0 {
		i.dsts = cfg.UnicastPeers
	}
}

func validate(cfg *InstanceConfig) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.Name == "" {
		bad("empty name")
	}
	if cfg.Interface == "" {
		bad("empty interface")
	}
	if cfg.VRID == 0 {
		bad("virtual_router_id 0: must be 1-255")
	}
	if cfg.Priority == 0 {
		bad("priority 0: must be 1-255")
	}
	v3 := cfg.Version == Version3
	switch {
	case cfg.Version != 0 && cfg.Version != Version2 && !v3:
		bad("vrrp_version %d: must be 2 or 3", cfg.Version)
	case v3:
		if cs := Centiseconds(cfg.AdvertInt); cs < 1 || cs > MaxAdvertIntV3 {
			bad("advert_int %v: VRRPv3 needs 0.01-40.95 s", cfg.AdvertInt)
		}
	case cfg.AdvertInt < time.Second || cfg.AdvertInt > 255*time.Second || cfg.AdvertInt%time.Second != 0:
		bad("advert_int %v: VRRPv2 needs whole seconds 1-255", cfg.AdvertInt)
	}
	if cfg.PreemptDelay < 0 {
		bad("negative preempt_delay %v", cfg.PreemptDelay)
	}
	switch cfg.AuthType {
	case AuthNone:
	case AuthPass:
		if len(cfg.AuthPass) > AuthDataLen {
			bad("auth_pass longer than %d bytes", AuthDataLen)
		}
	default:
		bad("auth_type %d: only none (0) and PASS (1) are supported", cfg.AuthType)
	}
	if v3 && cfg.AuthType != AuthNone {
		bad("authentication: VRRPv3 has none")
	}
	if len(cfg.VIPs) > MaxAddrs {
		bad("%d virtual addresses, VRRPv2 carries at most %d", len(cfg.VIPs), MaxAddrs)
	}
	seen := map[netip.Addr]bool{}
	for _, v := range cfg.VIPs {
		switch {
		case !v.Prefix.IsValid():
			bad("virtual address %v: not a prefix", v.Prefix)
		case seen[v.Prefix.Addr()]:
			bad("virtual address %v listed twice", v.Prefix.Addr())
		}
		seen[v.Prefix.Addr()] = true
	}
	ipv6 := v3 && cfg.PrimaryIP.Is6()
	family := "IPv4"
	if ipv6 {
		family = "IPv6"
	}
	if !cfg.PrimaryIP.Is4() && !ipv6 {
		bad("primary IP %v: need our IPv4 source address", cfg.PrimaryIP)
	}
	for _, p := range cfg.UnicastPeers {
		if p.Is6() != ipv6 {
			bad("unicast peer %v: not an %s address", p, family)
		}
	}
	if v3 {
		for _, v := range cfg.VIPs {
			if !v.Excluded && v.Prefix.Addr().Is6() != ipv6 {
				bad("virtual address %v: not %s like the instance (put it in virtual_ipaddress_excluded)", v.Prefix, family)
			}
		}
	}
	switch cfg.InitialState {
	case StateInit:
		cfg.InitialState = StateBackup
	case StateBackup, StateMaster:
	default:
		bad("initial state %v: must be MASTER or BACKUP", cfg.InitialState)
	}
	if cfg.GARPRepeat < 0 {
		bad("negative garp_master_repeat %d", cfg.GARPRepeat)
	}
	if cfg.GARPDelay < 0 {
		bad("negative garp_master_delay %v", cfg.GARPDelay)
	}
	return errors.Join(errs...)
}

// advertTemplate is the advert an instance sends, but for the priority.
func advertTemplate(cfg InstanceConfig) Advert {
	var a Advert
	if cfg.Version == Version3 {
		a = Advert{Version: Version3, VRID: cfg.VRID, MaxAdvertInt: Centiseconds(cfg.AdvertInt)}
	} else {
		a = Advert{Version: Version2, VRID: cfg.VRID, AuthType: cfg.AuthType, AdvertInt: uint8(cfg.AdvertInt / time.Second)}
		if cfg.AuthType == AuthPass {
			a.AuthData = AuthPassData(cfg.AuthPass)
		}
	}
	// Adverts carry the addresses of the instance's family only; the others and the
	// excluded ones follow the state without being advertised (VRRPv2 carries IPv4 only).
	ipv6 := cfg.Version == Version3 && cfg.PrimaryIP.Is6()
	for _, v := range cfg.VIPs {
		if !v.Excluded && v.Prefix.Addr().Is6() == ipv6 {
			a.Addrs = append(a.Addrs, v.Prefix.Addr())
		}
	}
	return a
}

// Status is a concurrency-safe snapshot.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.st.clone()
}

func (i *Instance) count(f func(*Status)) {
	i.mu.Lock()
	f(&i.st)
	i.mu.Unlock()
}

// Run runs the protocol until ctx ends, then stops gracefully: a MASTER sends a priority-0
// advert, every VIP is removed, and the Notifier is told StateInit (that is notify_stop:
// StateInit is never notified otherwise). Run closes the Conn, waits for its receive and
// notify goroutines, and returns nil. It may be called once.
func (i *Instance) Run(ctx context.Context) error {
	if !i.running.CompareAndSwap(false, true) {
		return fmt.Errorf("vrrp instance %q: Run called twice", i.cfg.Name)
	}
	defer close(i.done)
	clock := i.deps.Clock
	notify := newNotifyQueue(i.cfg.Name, i.deps.Notifier)
	notifyDone := make(chan struct{})
	go func() { defer close(notifyDone); notify.run() }()

	stop := make(chan struct{})
	rx := make(chan Packet, 64)
	recvDone := make(chan struct{})
	rxLog := i.log // i.log changes with a rename, in the loop's goroutine
	go func() { defer close(recvDone); i.receive(rx, stop, rxLog) }()

	links := i.primeLinks(ctx, i.deps.Links)
	timer := clock.NewTimer(time.Hour)
	timer.Stop()
	i.log.Info("VRRP instance starting", "interface", i.cfg.Interface, "vrid", i.cfg.VRID,
		"priority", i.cfg.Priority, "advert_int", i.cfg.AdvertInt, "initial_state", i.cfg.InitialState)
	i.apply(i.m.Start(clock.Now()), notify)
	i.arm(timer)
	i.trace("start")

loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case p := <-rx:
			i.handlePacket(p, notify)
			i.arm(timer)
			i.trace("packet")
		case <-timer.C():
			i.apply(i.m.Tick(clock.Now()), notify)
			i.arm(timer)
			i.trace("timer")
		case req := <-i.reconf:
			i.reconfigure(req.cfg, notify)
			i.arm(timer)
			close(req.done)
		case <-i.inbox.wake:
			for _, ev := range i.inbox.take() {
				i.apply(ev(i.m, clock.Now()), notify)
				i.trace("event")
			}
			i.arm(timer)
		case ev, ok := <-links:
			if !ok {
				links = nil // the watcher stopped: keep the last known link states
				continue
			}
			i.log.Debug("link state", "link", ev.Name, "up", ev.Up)
			i.apply(i.m.Link(clock.Now(), ev.Name, ev.Up), notify)
			i.arm(timer)
			i.trace("link")
		}
	}

	timer.Stop()
	i.inbox.close()
	i.apply(i.m.Shutdown(clock.Now()), notify)
	close(stop)
	if err := i.deps.Conn.Close(); err != nil {
		i.log.Warn("close VRRP socket", "err", err)
	}
	<-recvDone
	notify.close()
	<-notifyDone
	i.log.Info("VRRP instance stopped")
	return nil
}

// trace reports a handled input to Deps.Trace, if set.
func (i *Instance) trace(input string) {
	if i.deps.Trace != nil {
		i.deps.Trace(input)
	}
}

type reconfRequest struct {
	cfg  InstanceConfig
	done chan struct{}
}

// Reconfigure changes a running instance in place (a reload) and returns once the change
// is applied. The state is kept: a MASTER stays MASTER, keeps its VIPs and advertises the
// new settings at once; VIPs are changed one by one (only the added and removed ones are
// touched, GARP only for the added ones); hooks run only if the state changes (a backup
// that became the address owner). The interface, VRID, unicast_src_ip and tracked
// interfaces cannot change: those need a new Instance. The name may change (a relabel).
func (i *Instance) Reconfigure(ctx context.Context, cfg InstanceConfig) error {
	if err := validate(&cfg); err != nil {
		return fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
	}
	old := i.cfg // fields below are never changed by reconfigure
	switch {
	case cfg.Interface != old.Interface, cfg.VRID != old.VRID:
		return fmt.Errorf("vrrp instance %q: interface and virtual_router_id cannot change in place", cfg.Name)
	case cfg.PrimaryIP != old.PrimaryIP, (len(cfg.UnicastPeers) > 0) != (len(old.UnicastPeers) > 0):
		return fmt.Errorf("vrrp instance %q: the source address and unicast/multicast cannot change in place", cfg.Name)
	case !slices.Equal(cfg.TrackInterfaces, old.TrackInterfaces):
		return fmt.Errorf("vrrp instance %q: track_interface cannot change in place", cfg.Name)
	case cfg.Version != old.Version:
		return fmt.Errorf("vrrp instance %q: vrrp_version cannot change in place", cfg.Name)
	}
	req := reconfRequest{cfg: cfg, done: make(chan struct{})}
	select {
	case i.reconf <- req:
	case <-i.done:
		return fmt.Errorf("vrrp instance %q: stopped", old.Name)
	case <-ctx.Done():
		return ctx.Err()
	}
	<-req.done
	return nil
}

// reconfigure is Reconfigure inside Run's loop.
func (i *Instance) reconfigure(cfg InstanceConfig, notify *notifyQueue) {
	old := i.cfg
	oldAdvert := i.advert
	i.setConfig(cfg)
	if old.Name != cfg.Name {
		i.log.Info("VRRP instance renamed", "old_name", old.Name)
		notify.rename(cfg.Name)
	}
	added, removed := vipChanges(old.VIPs, cfg.VIPs, i.vipOf(old))
	if i.m.State() == StateMaster {
		for _, v := range removed {
			if err := i.deps.Addresses.Remove(v); err != nil {
				i.count(func(s *Status) { s.Errors[errRemoveVIP]++ })
				i.log.Error("remove VIP", "vip", v.Prefix, "dev", v.Dev, "err", err, "cause", "reload")
			}
		}
		for _, v := range added {
			if err := i.deps.Addresses.Add(v); err != nil {
				i.count(func(s *Status) { s.Errors[errAddVIP]++ })
				i.log.Error("add VIP", "vip", v.Prefix, "dev", v.Dev, "err", err, "cause", "reload")
			}
		}
		i.sendGARPFor(added, i.repeat)
	}
	advertChanged := !slices.Equal(oldAdvert.Addrs, i.advert.Addrs) || oldAdvert.AuthType != i.advert.AuthType ||
		oldAdvert.AuthData != i.advert.AuthData
	i.apply(i.m.Reconfigure(i.deps.Clock.Now(), machineConfig(cfg), advertChanged), notify)
	i.count(func(s *Status) {
		s.Name, s.Priority, s.EffectivePriority = cfg.Name, cfg.Priority, i.m.Priority()
		s.VIPs = s.VIPs[:0]
		for _, v := range cfg.VIPs {
			s.VIPs = append(s.VIPs, v.Prefix.String())
		}
	})
	i.log.Info("VRRP instance reconfigured", "state", i.m.State(), "priority", cfg.Priority,
		"vips_added", len(added), "vips_removed", len(removed), "cause", "reload")
}

// vipOf returns a function filling in cfg's interface for a VIP without its own dev.
func (i *Instance) vipOf(cfg InstanceConfig) func(VIP) VIP {
	return func(v VIP) VIP {
		if v.Dev == "" {
			v.Dev = cfg.Interface
		}
		return v
	}
}

// vipChanges are the VIPs of new that old lacks and those of old that new lacks (a VIP
// whose prefix length, device or label changed is both).
func vipChanges(old, new []VIP, fill func(VIP) VIP) (added, removed []VIP) {
	has := func(list []VIP, v VIP) bool {
		return slices.ContainsFunc(list, func(w VIP) bool { return fill(w) == v })
	}
	for _, v := range new {
		if v = fill(v); !has(old, v) {
			added = append(added, v)
		}
	}
	for _, v := range old {
		if v = fill(v); !has(new, v) {
			removed = append(removed, v)
		}
	}
	return added, removed
}

// WatchedLinks are the links an instance needs watched: its interface and its
// track_interface list, without duplicates.
func WatchedLinks(cfg InstanceConfig) []string {
	names := []string{cfg.Interface}
	for _, t := range cfg.TrackInterfaces {
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	return names
}

// primeLinks feeds the machine the first state of every watched link before Start. It
// waits at most initialLinkWait (real time: this is start-up, not protocol timing) and
// returns the channel to keep reading (nil once closed).
func (i *Instance) primeLinks(ctx context.Context, links <-chan LinkEvent) <-chan LinkEvent {
	if links == nil {
		return nil
	}
	missing := map[string]bool{}
	for _, n := range WatchedLinks(i.cfg) {
		missing[n] = true
	}
	deadline := time.NewTimer(initialLinkWait)
	defer deadline.Stop()
	for len(missing) > 0 {
		select {
		case ev, ok := <-links:
			if !ok {
				return nil
			}
			delete(missing, ev.Name)
			i.log.Debug("initial link state", "link", ev.Name, "up", ev.Up)
			i.m.Link(i.deps.Clock.Now(), ev.Name, ev.Up) // before Start: records only
			i.trace("link")
		case <-deadline.C:
			i.log.Warn("no initial state for some links: assuming up", "links", slices.Sorted(maps.Keys(missing)))
			return links
		case <-ctx.Done():
			return links
		}
	}
	return links
}

// receive owns the blocking Conn.Recv loop; it ends when stop is closed (Run closes the
// Conn right after, which unblocks Recv).
func (i *Instance) receive(rx chan<- Packet, stop <-chan struct{}, log *slog.Logger) {
	var fails int
	for {
		p, err := i.deps.Conn.Recv()
		select {
		case <-stop:
			return
		default:
		}
		if err != nil {
			fails++
			i.count(func(s *Status) { s.Errors[errRecv]++ })
			if fails == 1 || fails%100 == 0 {
				log.Warn("receive VRRP packet", "err", err, "failures", fails)
			}
			// Back off so a broken socket does not spin; real time on purpose: this is
			// not protocol timing.
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		fails = 0
		select {
		case rx <- p:
		case <-stop:
			return
		}
	}
}

// arm sets the one timer to the machine's earliest deadline.
func (i *Instance) arm(t Timer) {
	d, ok := i.m.NextDeadline()
	if !ok {
		t.Stop()
		return
	}
	t.Reset(max(d.Sub(i.deps.Clock.Now()), 0))
}

func (i *Instance) handlePacket(p Packet, notify *notifyQueue) {
	r := i.checks.check(p)
	if r.Drop != DropNone {
		i.count(func(s *Status) { s.Drops[r.Drop.String()]++ })
		if !i.warnDrop(p, r) {
			// Debug only: a flood of bad packets must not flood the log; the counters show it.
			i.log.Debug("VRRP packet dropped", "reason", r.Drop, "src", p.Src, "err", r.Err)
		}
		return
	}
	i.count(func(s *Status) {
		s.AdvertsReceived++
		if r.AddrMismatch {
			s.AddrMismatches++
		}
	})
	if r.IntervalMismatch {
		i.warnInterval(p.Src, r.Advert.Interval())
	}
	if r.AddrMismatch {
		if ok, n := i.warns.allow("vip_list", i.deps.Clock.Now()); ok {
			i.log.Warn("VRRP advert address list differs from ours: accepted, check both configs",
				"src", p.Src, "theirs", r.Advert.Addrs, "ours", i.advert.Addrs, "suppressed", n)
		}
	}
	if r.Advert.Version == Version3 {
		i.apply(i.m.AdvertV3(i.deps.Clock.Now(), p.Src, r.Advert.Priority, r.Advert.Interval()), notify)
		return
	}
	i.apply(i.m.Advert(i.deps.Clock.Now(), p.Src, r.Advert.Priority), notify)
}

// warnInterval reports (at most once per dropWarnEvery) a VRRPv3 advert whose interval differs
// from ours: accepted, a backup follows the master's (RFC 5798 6.4.2, as keepalived).
func (i *Instance) warnInterval(src netip.Addr, theirs time.Duration) {
	i.count(func(s *Status) { s.IntervalMismatches++ })
	if ok, n := i.warns.allow("v3_interval", i.deps.Clock.Now()); ok {
		i.log.Warn("VRRPv3 advert interval differs from ours: following the master's", "src", src,
			"theirs", theirs, "ours", i.cfg.AdvertInt, "suppressed", n)
	}
}

// apply executes the machine's actions in order. Failures are logged and counted, never
// fatal: the protocol must keep running.
func (i *Instance) apply(acts []Action, notify *notifyQueue) {
	for _, a := range acts {
		switch a := a.(type) {
		case SendAdvert:
			i.sendAdvert(a.Priority)
		case AddVIPs:
			for _, v := range i.cfg.VIPs {
				if err := i.deps.Addresses.Add(i.vip(v)); err != nil {
					i.count(func(s *Status) { s.Errors[errAddVIP]++ })
					i.log.Error("add VIP", "vip", v.Prefix, "dev", i.vip(v).Dev, "err", err)
				} else {
					i.log.Info("VIP added", "vip", v.Prefix, "dev", i.vip(v).Dev)
				}
			}
			i.holding = true
		case RemoveVIPs:
			for _, v := range i.cfg.VIPs {
				if err := i.deps.Addresses.Remove(i.vip(v)); err != nil {
					i.count(func(s *Status) { s.Errors[errRemoveVIP]++ })
					i.log.Error("remove VIP", "vip", v.Prefix, "dev", i.vip(v).Dev, "err", err)
				} else if i.holding {
					i.log.Info("VIP removed", "vip", v.Prefix, "dev", i.vip(v).Dev)
				}
			}
			i.holding = false
		case SendGARP:
			i.sendGARP(a.Kind)
		case PriorityChange:
			i.log.Info("VRRP effective priority changed", "from", a.From, "to", a.To, "tracked", i.trackSummary())
			i.count(func(s *Status) { s.EffectivePriority = a.To })
		case Transition:
			now := i.deps.Clock.Now()
			i.count(func(s *Status) {
				s.State = a.To
				s.Transitions++
				s.countMaster(a.From, a.To)
				s.LastTransition = TransitionRecord{At: now, From: a.From, To: a.To, Reason: a.Reason}
			})
			i.log.Info("VRRP state change", "from", a.From, "to", a.To, "reason", a.Reason, "priority", i.m.Priority())
			notify.push(a.To, i.m.Priority())
			if i.deps.OnTransition != nil {
				i.deps.OnTransition(i.cfg.Name, a, i.m.Priority())
			}
		}
	}
	// The master may change without a transition (a backup hears a new master).
	tracked := i.trackStatus()
	i.count(func(s *Status) {
		s.Tracked = tracked
		s.EffectivePriority = i.m.Priority()
		ip := i.m.MasterIP()
		if ip.IsValid() {
			s.MasterIP = ip.String()
		} else {
			s.MasterIP = ""
		}
	})
}

// vip fills in the instance's interface for a VIP without its own dev.
func (i *Instance) vip(v VIP) VIP {
	if v.Dev == "" {
		v.Dev = i.cfg.Interface
	}
	return v
}

func (i *Instance) sendAdvert(prio uint8) {
	adv := i.advert
	adv.Priority = prio
	for _, dst := range i.dsts {
		// Encoded per destination: the VRRPv3 checksum covers it.
		b, err := adv.AppendTo(i.buf[:0], i.cfg.PrimaryIP, dst)
		if err != nil { // validated in NewInstance: cannot happen
			i.log.Error("encode VRRP advert", "err", err)
			return
		}
		i.buf = b
		if err := i.deps.Conn.Send(b, dst); err != nil {
			i.count(func(s *Status) { s.Errors[errSend]++ })
			i.log.Warn("send VRRP advert", "dst", dst, "priority", prio, "err", err)
			continue
		}
		i.count(func(s *Status) { s.AdvertsSent++ })
	}
}

func (i *Instance) sendGARP(kind GARPKind) {
	repeat := i.repeat
	if kind == GARPLowerPrio && i.cfg.GARPLowerPrioRepeat != 0 {
		repeat = i.cfg.GARPLowerPrioRepeat
	}
	if repeat <= 0 || len(i.cfg.VIPs) == 0 {
		return
	}
	i.log.Info("gratuitous ARP burst", "why", kind, "per_vip", repeat, "vips", len(i.cfg.VIPs))
	i.sendGARPFor(i.cfg.VIPs, repeat)
}

// sendGARPFor sends one burst of repeat announcements per VIP of vips.
func (i *Instance) sendGARPFor(vips []VIP, repeat int) {
	for _, v := range vips {
		v = i.vip(v)
		announce, what := i.deps.Announcer.GratuitousARP, "gratuitous ARP"
		if v.Prefix.Addr().Is6() {
			announce, what = i.deps.Announcer.UnsolicitedNA, "unsolicited neighbour advertisement"
		}
		// A VIP on the loopback (DR across segments keeps it on the director's lo) has no
		// neighbours there: announce it where the neighbours are, on the instance's link.
		if v.Dev == "lo" {
			v.Dev = i.cfg.Interface
		}
		for n := 0; n < repeat; n++ {
			if err := announce(v.Dev, v.Prefix.Addr()); err != nil {
				i.count(func(s *Status) { s.Errors[errGARP]++ })
				i.log.Warn(what, "vip", v.Prefix.Addr(), "dev", v.Dev, "err", err)
				break // the rest of this burst would fail the same way
			}
		}
	}
}

// notifyQueue delivers transitions to the Notifier in order from its own goroutine.
type notifyQueue struct {
	name   string
	n      Notifier
	mu     sync.Mutex
	q      []notification
	closed bool
	wake   chan struct{}
}

type notification struct {
	state State
	prio  uint8
}

func newNotifyQueue(name string, n Notifier) *notifyQueue {
	return &notifyQueue{name: name, n: n, wake: make(chan struct{}, 1)}
}

// rename changes the instance name the Notifier is given from now on.
func (q *notifyQueue) rename(name string) {
	q.mu.Lock()
	q.name = name
	q.mu.Unlock()
}

func (q *notifyQueue) push(s State, prio uint8) {
	if q.n == nil {
		return
	}
	q.mu.Lock()
	q.q = append(q.q, notification{s, prio})
	q.mu.Unlock()
	q.signal()
}

func (q *notifyQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *notifyQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *notifyQueue) run() {
	for {
		q.mu.Lock()
		batch, closed, name := q.q, q.closed, q.name
		q.q = nil
		q.mu.Unlock()
		for _, n := range batch {
			q.n.Notify(name, n.state, n.prio)
		}
		if len(batch) > 0 {
			continue
		}
		if closed {
			return
		}
		<-q.wake
	}
}
