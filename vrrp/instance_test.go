package vrrp

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/clock/clocktest"
)

// lab runs Instances over the fake wire with one fake clock. Time moves in small steps and
// after each step the lab waits until every Instance has handled every input it was given
// (packets delivered, timer expiries, link events, posted results, notifications): what
// the fakes and the lab fed in is compared with what each loop reported through
// Deps.Trace and what the fake Notifier received, so it is exact, not a guess based on
// sleeping.
type lab struct {
	t     *testing.T
	clock *clocktest.Fake
	wire  *wire
	nodes []*node
	step  time.Duration
	// startDown lists links that the next add reports down in their initial state.
	startDown []string
}

type node struct {
	name      string
	inst      *Instance
	conn      *wireConn
	addrs     *fakeAddrs
	ann       *fakeAnnouncer
	notes     *fakeNotifier
	links     chan LinkEvent
	linksSent int64
	posted    int64 // results posted with lab.track
	trace     *loopTrace
	cancel    context.CancelFunc
	done      chan struct{}
	stopped   bool
}

// loopTrace counts the inputs an Instance's loop reported through Deps.Trace, and as
// "transition" the transitions it reported through Deps.OnTransition: each one queued a
// notification for the Notifier.
type loopTrace struct {
	mu sync.Mutex
	n  map[string]int64
}

func (lt *loopTrace) record(input string) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.n == nil {
		lt.n = map[string]int64{}
	}
	lt.n[input]++
}

func (lt *loopTrace) count(input string) int64 {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.n[input]
}

func newLab(t *testing.T) *lab {
	c := clocktest.NewFake(time.Time{})
	return &lab{t: t, clock: c, wire: newWire(c), step: 10 * time.Millisecond}
}

var testVIP = VIP{Prefix: netip.MustParsePrefix("192.0.2.100/32")}

func baseConfig(name string, prio uint8, ip string) InstanceConfig {
	return InstanceConfig{
		Name: name, Interface: "eth0", VRID: 51, Priority: prio, AdvertInt: time.Second,
		Preempt: true, AuthType: AuthPass, AuthPass: "1111", VIPs: []VIP{testVIP},
		PrimaryIP: netip.MustParseAddr(ip), GARPDelay: 5 * time.Second,
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// add creates an Instance (not yet running).
func (l *lab) add(cfg InstanceConfig) *node { return l.addLogged(cfg, quietLog()) }

func (l *lab) addLogged(cfg InstanceConfig, log *slog.Logger) *node {
	l.t.Helper()
	n := &node{
		name:  cfg.Name,
		conn:  l.wire.newConn(cfg.PrimaryIP),
		addrs: newFakeAddrs(l.clock),
		ann:   &fakeAnnouncer{},
		notes: &fakeNotifier{},
		links: make(chan LinkEvent, 16),
		trace: &loopTrace{},
		done:  make(chan struct{}),
	}
	inst, err := NewInstance(cfg, l.deps(n, log))
	if err != nil {
		l.t.Fatalf("NewInstance: %v", err)
	}
	n.inst = inst
	// The initial link states, as a LinkWatcher reports them first.
	for _, name := range WatchedLinks(cfg) {
		n.links <- LinkEvent{Name: name, Up: !slices.Contains(l.startDown, name)}
		n.linksSent++
	}
	l.nodes = append(l.nodes, n)
	return n
}

// deps wires an Instance to n's fakes and to the lab's clock and trace.
func (l *lab) deps(n *node, log *slog.Logger) Deps {
	return Deps{
		Conn: n.conn, Addresses: n.addrs, Announcer: n.ann, Notifier: n.notes,
		Links: n.links, Clock: l.clock, Log: log,
		Trace:        n.trace.record,
		OnTransition: func(string, Transition, uint8) { n.trace.record("transition") },
	}
}

// start runs the Instance and waits until it has taken its first transition.
func (l *lab) start(n *node) {
	l.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.done)
		if err := n.inst.Run(ctx); err != nil {
			l.t.Errorf("%s: Run: %v", n.name, err)
		}
	}()
	l.t.Cleanup(func() { cancel(); <-n.done })
	l.waitFor(n.started, n.name+" started")
	l.settle()
}

// stop cancels Run and waits for it to return; a graceful stop must finish within 2 s.
func (l *lab) stop(n *node) {
	l.t.Helper()
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(2 * time.Second):
		l.t.Fatalf("%s: Run did not return within 2s of cancel", n.name)
	}
	n.stopped = true
	l.settle()
}

func (l *lab) link(n *node, name string, up bool) {
	n.linksSent++
	n.links <- LinkEvent{Name: name, Up: up}
	l.settle()
}

// track posts a tracked result to n, counted so that settle waits for it.
func (l *lab) track(n *node, key string, r TrackResult) {
	n.posted++
	n.inst.Track(key, r)
	l.settle()
}

// started reports whether n's loop has applied Start and armed its timer.
func (n *node) started() bool { return n.trace.count("start") > 0 }

func (l *lab) settled() bool {
	var timers int64
	for _, n := range l.nodes {
		timers += n.trace.count("timer")
		if n.stopped || n.cancel == nil {
			continue
		}
		if !n.started() ||
			n.conn.deliveredCount() != n.trace.count("packet") ||
			n.linksSent != n.trace.count("link") ||
			n.posted != n.trace.count("event") ||
			n.trace.count("transition") != n.notes.count() {
			return false
		}
	}
	return timers == l.clock.Fired()
}

func (l *lab) settle() {
	l.t.Helper()
	l.waitFor(l.settled, "instances to settle")
}

func (l *lab) waitFor(cond func() bool, what string) {
	l.t.Helper()
	end := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(end) {
			l.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// run advances fake time by d in steps, settling after each.
func (l *lab) run(d time.Duration) {
	l.t.Helper()
	for d > 0 {
		s := min(l.step, d)
		l.clock.Advance(s)
		l.settle()
		d -= s
	}
}

// runUntil advances until cond holds, at most max fake time; it returns the fake time spent.
func (l *lab) runUntil(cond func() bool, limit time.Duration, what string) time.Duration {
	l.t.Helper()
	var spent time.Duration
	for !cond() {
		if spent >= limit {
			l.t.Fatalf("%s: not after %v of fake time", what, limit)
		}
		l.run(l.step)
		spent += l.step
	}
	return spent
}

func (n *node) state() State { return n.inst.Status().State }

func wantState(t *testing.T, n *node, s State) {
	t.Helper()
	if got := n.state(); got != s {
		t.Fatalf("%s: state %v, want %v", n.name, got, s)
	}
}

const vipKey = "192.0.2.100/32 eth0"

// elect starts A (150, initial MASTER) and B (100) and lets them settle.
func elect(t *testing.T) (*lab, *node, *node) {
	l := newLab(t)
	ca := baseConfig("A", 150, "10.0.0.1")
	ca.InitialState = StateMaster
	a := l.add(ca)
	b := l.add(baseConfig("B", 100, "10.0.0.2"))
	l.start(a)
	l.start(b)
	l.run(5 * time.Second)
	return l, a, b
}

func TestRunElectsHigherPriority(t *testing.T) {
	_, a, b := elect(t)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)
	if !a.addrs.holds(vipKey) || b.addrs.holds(vipKey) {
		t.Fatalf("VIP on A %v, on B %v: want A only", a.addrs.holds(vipKey), b.addrs.holds(vipKey))
	}
	sa, sb := a.inst.Status(), b.inst.Status()
	if sb.MasterIP != "10.0.0.1" || sa.MasterIP != "10.0.0.1" {
		t.Fatalf("master IP A %q B %q, want 10.0.0.1", sa.MasterIP, sb.MasterIP)
	}
	if sb.AdvertsReceived < 3 || sa.AdvertsSent < 3 {
		t.Fatalf("adverts: A sent %d, B received %d", sa.AdvertsSent, sb.AdvertsReceived)
	}
	if sa.LastTransition.To != StateMaster || sa.LastTransition.Reason != ReasonMasterDown {
		t.Fatalf("A last transition %+v", sa.LastTransition)
	}
	if got := a.notes.got(); !slices.Equal(got, []State{StateBackup, StateMaster}) {
		t.Fatalf("A notifications %v", got)
	}
	if got := b.notes.got(); !slices.Equal(got, []State{StateBackup}) {
		t.Fatalf("B notifications %v", got)
	}
	// A became master at 1.6 s (advert_int + skew, initial MASTER): one GARP burst of 5,
	// the second burst (garp_master_delay 5 s) is not due yet.
	if n := a.ann.countFor("eth0 192.0.2.100"); n != DefaultGARPRepeat {
		t.Fatalf("A sent %d GARPs, want %d", n, DefaultGARPRepeat)
	}
	l := a.inst.Status()
	if l.Drops["vrid"] != 0 || l.Errors["send"] != 0 {
		t.Fatalf("unexpected drops/errors: %+v", l)
	}
	// Every advert goes to the multicast group, is well formed and carries our VIPs.
	for _, s := range a.conn.sentAdverts() {
		if s.dst != MulticastGroup || s.adv.VRID != 51 || s.adv.Priority != 150 ||
			s.adv.AuthData != AuthPassData("1111") || len(s.adv.Addrs) != 1 {
			t.Fatalf("bad advert %+v", s)
		}
	}
}

func TestRunSecondGARPBurst(t *testing.T) {
	l, a, _ := elect(t)
	l.run(2 * time.Second) // 7 s: the delayed burst was due at 1.6 + 5 s
	if n := a.ann.countFor("eth0 192.0.2.100"); n != 2*DefaultGARPRepeat {
		t.Fatalf("A sent %d GARPs, want two bursts", n)
	}
}

func TestRunMasterLossTakeoverAfterMasterDownInterval(t *testing.T) {
	l, a, b := elect(t)
	a.conn.setCut(true) // A freezes off the wire (crash, cable)
	took := l.runUntil(func() bool { return b.state() == StateMaster }, 10*time.Second, "B takes over")
	sent := a.conn.sentAdverts()
	last := sent[len(sent)-1].at
	// Sends after the cut are recorded but not delivered; find the last delivered one.
	for i := len(sent) - 1; i >= 0; i-- {
		if !sent[i].at.After(l.clock.Now().Add(-took)) {
			last = sent[i].at
			break
		}
	}
	at, _ := b.addrs.lastAdd()
	gap := at.Sub(last)
	mdi := 3*time.Second + 156*time.Second/256
	if gap < mdi || gap > mdi+2*l.step {
		t.Fatalf("B took over %v after A's last advert, want Master_Down_Interval %v", gap, mdi)
	}
	if st := b.inst.Status(); st.LastTransition.Reason != ReasonMasterDown || !b.addrs.holds(vipKey) {
		t.Fatalf("B: %+v", st)
	}
}

func TestRunGracefulStopTakeoverAfterSkew(t *testing.T) {
	l, a, b := elect(t)
	stopAt := l.clock.Now()
	l.stop(a)
	if !a.conn.isClosed() {
		t.Fatal("Run did not close its Conn")
	}
	sent := a.conn.sentAdverts()
	if last := sent[len(sent)-1]; last.adv.Priority != 0 {
		t.Fatalf("A's last advert has priority %d, want 0", last.adv.Priority)
	}
	if a.addrs.count() != 0 {
		t.Fatal("A kept its VIP after stop")
	}
	if got := a.notes.got(); got[len(got)-1] != StateInit {
		t.Fatalf("A notifications %v: want a final INIT (notify_stop)", got)
	}
	if st := a.inst.Status(); st.State != StateInit || st.LastTransition.Reason != ReasonShutdown {
		t.Fatalf("A after stop: %+v", st)
	}
	l.runUntil(func() bool { return b.state() == StateMaster }, 2*time.Second, "B takes over")
	at, _ := b.addrs.lastAdd()
	skew := 156 * time.Second / 256
	if gap := at.Sub(stopAt); gap < skew || gap > skew+2*l.step {
		t.Fatalf("B took over %v after A stopped, want Skew_Time %v", gap, skew)
	}
	if b.inst.Status().LastTransition.Reason != ReasonPriorityZero {
		t.Fatalf("B reason %v", b.inst.Status().LastTransition.Reason)
	}
}

func TestRunSplitBrainHeals(t *testing.T) {
	l, a, b := elect(t)
	a.conn.setCut(true)
	l.runUntil(func() bool { return b.state() == StateMaster }, 10*time.Second, "B takes over")
	wantState(t, a, StateMaster) // both masters now
	// Heal just after A's advert (lost), so that B's next advert reaches A before A's
	// next one reaches B: A must answer it at once and re-announce its VIP.
	n := len(a.conn.sentAdverts())
	l.runUntil(func() bool { return len(a.conn.sentAdverts()) > n }, 2*time.Second, "A advertises")
	garps := a.ann.total()
	a.conn.setCut(false)
	l.run(1500 * time.Millisecond)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)
	if a.ann.total() <= garps {
		t.Fatal("A did not re-announce its VIP after hearing a lower priority master")
	}
	if b.addrs.holds(vipKey) || !a.addrs.holds(vipKey) {
		t.Fatal("VIP not only on A after healing")
	}
	if r := b.inst.Status().LastTransition.Reason; r != ReasonHigherPriority {
		t.Fatalf("B reason %v", r)
	}
}

func TestRunEqualPriorityHigherAddressWins(t *testing.T) {
	l := newLab(t)
	a := l.add(baseConfig("A", 100, "10.0.0.1"))
	b := l.add(baseConfig("B", 100, "10.0.0.2"))
	// Cut both so that both become master, then join them: the RFC's tie-break keeps the
	// one with the higher primary address.
	a.conn.setCut(true)
	b.conn.setCut(true)
	l.start(a)
	l.start(b)
	l.run(4 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateMaster)
	a.conn.setCut(false)
	b.conn.setCut(false)
	l.run(1500 * time.Millisecond)
	wantState(t, a, StateBackup)
	wantState(t, b, StateMaster)
}

func TestRunPreemptAfterRestart(t *testing.T) {
	l, a, b := elect(t)
	l.stop(a)
	l.runUntil(func() bool { return b.state() == StateMaster }, 2*time.Second, "B takes over")
	// A comes back (a new Instance, as after a daemon restart) and preempts B.
	ca := baseConfig("A2", 150, "10.0.0.1")
	a2 := l.add(ca)
	l.start(a2)
	l.runUntil(func() bool { return a2.state() == StateMaster }, 5*time.Second, "A preempts")
	l.run(500 * time.Millisecond)
	wantState(t, b, StateBackup)
	if r := a2.inst.Status().LastTransition.Reason; r != ReasonPreempt {
		t.Fatalf("A2 reason %v", r)
	}
}

func TestRunNoPreempt(t *testing.T) {
	l, a, b := elect(t)
	l.stop(a)
	l.runUntil(func() bool { return b.state() == StateMaster }, 2*time.Second, "B takes over")
	ca := baseConfig("A2", 150, "10.0.0.1")
	ca.Preempt = false
	a2 := l.add(ca)
	l.start(a2)
	l.run(10 * time.Second)
	wantState(t, a2, StateBackup)
	wantState(t, b, StateMaster)
}

func TestRunFaultOnLinkDown(t *testing.T) {
	l := newLab(t)
	ca := baseConfig("A", 150, "10.0.0.1")
	ca.InitialState = StateMaster
	ca.TrackInterfaces = []string{"eth1"}
	a := l.add(ca)
	b := l.add(baseConfig("B", 100, "10.0.0.2"))
	l.start(a)
	l.start(b)
	l.run(3 * time.Second)
	wantState(t, a, StateMaster)

	l.link(a, "eth1", false)
	wantState(t, a, StateFault)
	if a.addrs.count() != 0 {
		t.Fatal("A kept its VIP in FAULT")
	}
	if st := a.inst.Status(); st.LastTransition.Reason != ReasonTrackDown || st.MasterIP != "" {
		t.Fatalf("A in fault: %+v", st)
	}
	// A resigned with priority 0: B takes over after its skew, not 3 intervals.
	took := l.runUntil(func() bool { return b.state() == StateMaster }, 2*time.Second, "B takes over")
	if took > time.Second {
		t.Fatalf("B took %v of fake time, want about Skew_Time", took)
	}
	l.run(3 * time.Second)
	wantState(t, a, StateFault) // adverts do not move a FAULT router

	l.link(a, "eth1", true)
	wantState(t, a, StateBackup)
	l.runUntil(func() bool { return a.state() == StateMaster }, 5*time.Second, "A preempts after recovery")
	l.run(100 * time.Millisecond)
	wantState(t, b, StateBackup)
	if got := a.notes.got(); !slices.Equal(got, []State{StateBackup, StateMaster, StateFault, StateBackup, StateMaster}) {
		t.Fatalf("A notifications %v", got)
	}
}

func TestRunDropsAreCountedAndChangeNothing(t *testing.T) {
	l, a, b := elect(t)
	before := b.inst.Status()
	good, _ := (&Advert{VRID: 51, Priority: 200, AuthType: AuthPass, AdvertInt: 1,
		AuthData: AuthPassData("1111"), Addrs: []netip.Addr{testVIP.Prefix.Addr()}}).Marshal(netip.Addr{}, netip.Addr{})
	other, _ := (&Advert{VRID: 52, Priority: 200, AdvertInt: 1}).Marshal(netip.Addr{}, netip.Addr{})
	wrongPass, _ := (&Advert{VRID: 51, Priority: 200, AuthType: AuthPass, AdvertInt: 1,
		AuthData: AuthPassData("2222")}).Marshal(netip.Addr{}, netip.Addr{})
	src := netip.MustParseAddr("10.0.0.9")
	// Aimed at the master: each would demote A if it were accepted.
	for _, p := range []Packet{
		{Src: src, TTL: 64, Payload: good},
		{Src: src, TTL: 255, Payload: other},
		{Src: src, TTL: 255, Payload: wrongPass},
		{Src: src, TTL: 255, Payload: good[:9]},
		{Src: src, TTL: 255, Payload: []byte("garbage bytes here")},
	} {
		a.conn.inject(p)
	}
	l.settle()
	wantState(t, a, StateMaster)
	st := a.inst.Status()
	for reason, want := range map[string]uint64{"ttl": 1, "vrid": 1, "auth_data": 1, "truncated": 1, "version": 1} {
		if st.Drops[reason] != want {
			t.Errorf("drops[%s] = %d, want %d (all: %v)", reason, st.Drops[reason], want, st.Drops)
		}
	}
	if b.inst.Status().Transitions != before.Transitions {
		t.Fatal("B changed state")
	}
}

func TestRunAddressListMismatchAcceptedWithWarning(t *testing.T) {
	l := newLab(t)
	ca := baseConfig("A", 150, "10.0.0.1")
	ca.InitialState = StateMaster
	cb := baseConfig("B", 100, "10.0.0.2")
	cb.VIPs = []VIP{{Prefix: netip.MustParsePrefix("192.0.2.101/32")}}
	a := l.add(ca)
	logBuf := &syncBuffer{}
	b := l.addLogged(cb, slog.New(slog.NewTextHandler(logBuf, nil)))
	l.start(a)
	l.start(b)
	l.run(10 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup) // never a silent dual master
	st := b.inst.Status()
	if st.AddrMismatches < 5 {
		t.Fatalf("address mismatches %d", st.AddrMismatches)
	}
	if n := strings.Count(logBuf.String(), "address list differs"); n != 1 {
		t.Fatalf("%d warnings in 10 s, want 1 (rate-limited)", n)
	}
}

func TestRunUnicast(t *testing.T) {
	l := newLab(t)
	ca := baseConfig("A", 150, "10.0.0.1")
	ca.UnicastPeers = []netip.Addr{netip.MustParseAddr("10.0.0.2")}
	cb := baseConfig("B", 100, "10.0.0.2")
	cb.UnicastPeers = []netip.Addr{netip.MustParseAddr("10.0.0.1")}
	a, b := l.add(ca), l.add(cb)
	l.start(a)
	l.start(b)
	l.run(5 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)
	for _, s := range a.conn.sentAdverts() {
		if s.dst != netip.MustParseAddr("10.0.0.2") {
			t.Fatalf("unicast advert sent to %v", s.dst)
		}
	}
	// A stranger's better advert is ignored in unicast mode.
	adv, _ := (&Advert{VRID: 51, Priority: 254, AuthType: AuthPass, AdvertInt: 1,
		AuthData: AuthPassData("1111"), Addrs: []netip.Addr{testVIP.Prefix.Addr()}}).Marshal(netip.Addr{}, netip.Addr{})
	a.conn.inject(Packet{Src: netip.MustParseAddr("10.0.0.66"), TTL: 255, Payload: adv})
	l.settle()
	wantState(t, a, StateMaster)
	if n := a.inst.Status().Drops["not_peer"]; n != 1 {
		t.Fatalf("not_peer drops %d", n)
	}
}

func TestRunEffectErrorsAreCountedNotFatal(t *testing.T) {
	l := newLab(t)
	c := baseConfig("A", 255, "10.0.0.1")
	a := l.add(c)
	a.addrs.addErr = errFake
	a.ann.err = errFake
	a.conn.setSendErr(errFake)
	l.start(a)
	l.run(3 * time.Second)
	wantState(t, a, StateMaster)
	st := a.inst.Status()
	if st.Errors["add_vip"] != 1 || st.Errors["garp"] != 1 || st.Errors["send"] < 3 || st.AdvertsSent != 0 {
		t.Fatalf("errors %v, sent %d", st.Errors, st.AdvertsSent)
	}
	a.conn.setSendErr(nil)
	l.run(time.Second)
	if a.inst.Status().AdvertsSent == 0 {
		t.Fatal("no advert after the socket recovered")
	}
}

func TestRunSlowNotifierDoesNotDelayAdverts(t *testing.T) {
	l := newLab(t)
	a := l.add(baseConfig("A", 255, "10.0.0.1"))
	a.notes.block = make(chan struct{})
	// settle waits for notifications: start by hand.
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() { defer close(a.done); a.inst.Run(ctx) }()
	l.waitFor(a.started, "A started")
	for i := int64(1); i <= 3; i++ {
		l.clock.Advance(time.Second)
		l.waitFor(func() bool { return a.trace.count("timer") == i }, "timer handled while the notifier blocks")
	}
	if n := a.inst.Status().AdvertsSent; n != 4 {
		t.Fatalf("%d adverts sent in 3 s as owner while the notifier blocked, want 4", n)
	}
	close(a.notes.block)
	cancel()
	<-a.done
	if got := a.notes.got(); !slices.Equal(got, []State{StateMaster, StateInit}) {
		t.Fatalf("notifications %v", got)
	}
}

func TestRunTwiceAndStopBeforeAnything(t *testing.T) {
	l := newLab(t)
	a := l.add(baseConfig("A", 100, "10.0.0.1"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- a.inst.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run with a cancelled context did not return")
	}
	if err := a.inst.Run(context.Background()); err == nil {
		t.Fatal("second Run did not fail")
	}
	if got := a.notes.got(); !slices.Equal(got, []State{StateBackup, StateInit}) {
		t.Fatalf("notifications %v", got)
	}
}

func TestNewInstanceValidation(t *testing.T) {
	deps := Deps{Conn: newWire(RealClock{}).newConn(netip.MustParseAddr("10.0.0.1")),
		Addresses: newFakeAddrs(RealClock{}), Announcer: &fakeAnnouncer{}}
	for _, tc := range []struct {
		name string
		mod  func(c *InstanceConfig)
		want string
	}{
		{"no name", func(c *InstanceConfig) { c.Name = "" }, "empty name"},
		{"no interface", func(c *InstanceConfig) { c.Interface = "" }, "empty interface"},
		{"vrid 0", func(c *InstanceConfig) { c.VRID = 0 }, "virtual_router_id"},
		{"priority 0", func(c *InstanceConfig) { c.Priority = 0 }, "priority 0"},
		{"advert_int 0", func(c *InstanceConfig) { c.AdvertInt = 0 }, "advert_int"},
		{"advert_int fraction", func(c *InstanceConfig) { c.AdvertInt = 1500 * time.Millisecond }, "whole seconds"},
		{"advert_int 256", func(c *InstanceConfig) { c.AdvertInt = 256 * time.Second }, "advert_int"},
		{"auth type", func(c *InstanceConfig) { c.AuthType = AuthAH }, "auth_type"},
		{"long password", func(c *InstanceConfig) { c.AuthPass = "123456789" }, "auth_pass"},
		{"invalid VIP", func(c *InstanceConfig) { c.VIPs = []VIP{{}} }, "not a prefix"},
		{"duplicate VIP", func(c *InstanceConfig) { c.VIPs = []VIP{testVIP, testVIP} }, "twice"},
		{"no primary", func(c *InstanceConfig) { c.PrimaryIP = netip.Addr{} }, "primary IP"},
		{"IPv6 peer", func(c *InstanceConfig) { c.UnicastPeers = []netip.Addr{netip.MustParseAddr("::1")} }, "unicast peer"},
		{"fault initial state", func(c *InstanceConfig) { c.InitialState = StateFault }, "initial state"},
		{"negative repeat", func(c *InstanceConfig) { c.GARPRepeat = -1 }, "garp_master_repeat"},
		{"negative preempt delay", func(c *InstanceConfig) { c.PreemptDelay = -time.Second }, "preempt_delay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig("VI_1", 100, "10.0.0.1")
			tc.mod(&c)
			_, err := NewInstance(c, deps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := NewInstance(baseConfig("VI_1", 100, "10.0.0.1"), Deps{}); err == nil {
		t.Fatal("missing deps accepted")
	}
	if _, err := NewInstance(baseConfig("VI_1", 100, "10.0.0.1"), deps); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}

func TestStatusSnapshotIsACopy(t *testing.T) {
	l, a, _ := elect(t)
	st := a.inst.Status()
	st.Drops["ttl"] = 99
	st.VIPs[0] = "x"
	l.run(time.Second)
	if s := a.inst.Status(); s.Drops["ttl"] != 0 || s.VIPs[0] != "192.0.2.100/32" {
		t.Fatalf("status aliases live state: %+v", s)
	}
	if s := a.inst.Status(); len(s.Drops) != len(DropReasons()) {
		t.Fatalf("drops lists %d reasons, want all %d", len(s.Drops), len(DropReasons()))
	}
}

// syncBuffer is a log destination safe for the runner goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunStartsInFaultWhenInterfaceDown(t *testing.T) {
	l := newLab(t)
	l.startDown = []string{"eth0"}
	c := baseConfig("A", 255, "10.0.0.1") // an owner would otherwise be MASTER at once
	a := l.add(c)
	l.start(a)
	l.run(2 * time.Second)
	wantState(t, a, StateFault)
	if len(a.conn.sentAdverts()) != 0 || a.addrs.count() != 0 || a.ann.total() != 0 {
		t.Fatal("a FAULT instance sent adverts, added VIPs or sent GARPs")
	}
	if got := a.notes.got(); !slices.Equal(got, []State{StateFault}) {
		t.Fatalf("notifications %v", got)
	}
	l.link(a, "eth0", true)
	wantState(t, a, StateMaster)
}

func TestRunStartsWithoutInitialLinkStates(t *testing.T) {
	// A watcher that never reports: Run assumes the links up after a short wait.
	l := newLab(t)
	a := l.add(baseConfig("A", 255, "10.0.0.1"))
	for len(a.links) > 0 {
		<-a.links
		a.linksSent--
	}
	l.start(a)
	wantState(t, a, StateMaster)
}

func TestWatchedLinks(t *testing.T) {
	c := baseConfig("A", 100, "10.0.0.1")
	c.TrackInterfaces = []string{"eth1", "eth0", "eth2", "eth1"}
	if got := WatchedLinks(c); !slices.Equal(got, []string{"eth0", "eth1", "eth2"}) {
		t.Fatalf("WatchedLinks = %v", got)
	}
}

func TestRunGARPRepeatAndVIPDevices(t *testing.T) {
	l := newLab(t)
	c := baseConfig("A", 255, "10.0.0.1")
	c.GARPRepeat = 2
	c.GARPDelay = 3 * time.Second
	c.VIPs = []VIP{
		{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Label: "eth0:0"},
		{Prefix: netip.MustParsePrefix("198.51.100.7/32"), Dev: "eth1"},
		{Prefix: netip.MustParsePrefix("203.0.113.9/32"), Dev: "lo"},
	}
	a := l.add(c)
	l.start(a)
	if a.ann.countFor("eth0 192.0.2.100") != 2 || a.ann.countFor("eth1 198.51.100.7") != 2 {
		t.Fatalf("first burst: %v", a.ann.garp)
	}
	// A VIP on lo is announced on the instance's interface, where its neighbours are.
	if a.ann.countFor("eth0 203.0.113.9") != 2 || a.ann.countFor("lo 203.0.113.9") != 0 {
		t.Fatalf("VIP on lo announced as %v", a.ann.garp)
	}
	if !a.addrs.holds("203.0.113.9/32 lo") {
		t.Fatalf("VIP on lo not added on lo: %v", a.addrs.have)
	}
	if !a.addrs.holds("192.0.2.100/24 eth0") || !a.addrs.holds("198.51.100.7/32 eth1") {
		t.Fatalf("VIPs not added on their devices: %v", a.addrs.have)
	}
	l.run(3 * time.Second)
	if a.ann.countFor("eth0 192.0.2.100") != 4 || a.ann.countFor("eth1 198.51.100.7") != 4 {
		t.Fatalf("after garp_master_delay: %v", a.ann.garp)
	}
	l.run(10 * time.Second)
	if a.ann.total() != 12 {
		t.Fatalf("GARPs kept coming: %v", a.ann.garp)
	}
	// The label reaches Addresses untouched.
	a.addrs.mu.Lock()
	label := a.addrs.ops[0].vip.Label
	a.addrs.mu.Unlock()
	if label != "eth0:0" {
		t.Fatalf("label %q", label)
	}
	// Adverts carry the addresses in configuration order.
	s := a.conn.sentAdverts()[0]
	if len(s.adv.Addrs) != 3 || s.adv.Addrs[0].String() != "192.0.2.100" || s.adv.Addrs[1].String() != "198.51.100.7" {
		t.Fatalf("advert addresses %v", s.adv.Addrs)
	}
}

// flakyConn fails its first Recv calls, as a socket hit by a transient error would.
type flakyConn struct {
	*wireConn
	mu    sync.Mutex
	fails int
}

func (c *flakyConn) Recv() (Packet, error) {
	c.mu.Lock()
	if c.fails > 0 {
		c.fails--
		c.mu.Unlock()
		return Packet{}, errFake
	}
	c.mu.Unlock()
	return c.wireConn.Recv()
}

func TestRunReceiveErrorsAreCountedAndSurvived(t *testing.T) {
	l := newLab(t)
	a := l.add(baseConfig("A", 150, "10.0.0.1"))
	cb := baseConfig("B", 100, "10.0.0.2")
	b := l.add(cb)
	// Swap B's instance for one whose Conn fails twice before working.
	flaky := &flakyConn{wireConn: b.conn, fails: 2}
	deps := l.deps(b, quietLog())
	deps.Conn = flaky
	inst, err := NewInstance(cb, deps)
	if err != nil {
		t.Fatal(err)
	}
	b.inst = inst
	l.start(a)
	l.start(b)
	l.waitFor(func() bool { return b.inst.Status().Errors["recv"] == 2 }, "two receive errors")
	l.run(5 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)
	if b.inst.Status().AdvertsReceived == 0 {
		t.Fatal("B received nothing after the errors")
	}
}

// IPv6 VIPs follow the state but are not advertised: VRRPv2 carries IPv4 addresses only.
func TestIPv6VIPNotAdvertised(t *testing.T) {
	c := baseConfig("VI_1", 100, "10.0.0.1")
	v6 := VIP{Prefix: netip.MustParsePrefix("2001:db8::10/128")}
	c.VIPs = append(c.VIPs, v6)
	inst, err := NewInstance(c, Deps{Conn: newWire(RealClock{}).newConn(netip.MustParseAddr("10.0.0.1")),
		Addresses: newFakeAddrs(RealClock{}), Announcer: &fakeAnnouncer{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range inst.advert.Addrs {
		if a.Is6() {
			t.Errorf("advert carries IPv6 address %v", a)
		}
	}
	if len(inst.advert.Addrs) != len(c.VIPs)-1 {
		t.Errorf("advert has %d addresses, want %d", len(inst.advert.Addrs), len(c.VIPs)-1)
	}
}
