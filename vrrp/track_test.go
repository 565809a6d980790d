package vrrp

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/clock/clocktest"
)

func TestTrackedEffect(t *testing.T) {
	ok, fail := TrackResult{OK: true}, TrackResult{OK: false}
	for _, tc := range []struct {
		t     Tracked
		r     TrackResult
		adj   int
		fault bool
	}{
		// weight 0: failing => FAULT
		{Tracked{Kind: TrackScript, Weight: 0}, ok, 0, false},
		{Tracked{Kind: TrackScript, Weight: 0}, fail, 0, true},
		{Tracked{Kind: TrackInterface, Weight: 0}, fail, 0, true},
		// reverse with weight 0: FAULT while it succeeds
		{Tracked{Kind: TrackScript, Weight: 0, Reverse: true}, ok, 0, true},
		{Tracked{Kind: TrackScript, Weight: 0, Reverse: true}, fail, 0, false},
		// weight > 0: added while it succeeds
		{Tracked{Kind: TrackScript, Weight: 10}, ok, 10, false},
		{Tracked{Kind: TrackScript, Weight: 10}, fail, 0, false},
		// weight < 0: added while it fails
		{Tracked{Kind: TrackScript, Weight: -60}, ok, 0, false},
		{Tracked{Kind: TrackScript, Weight: -60}, fail, -60, false},
		// reverse swaps
		{Tracked{Kind: TrackScript, Weight: 10, Reverse: true}, ok, 0, false},
		{Tracked{Kind: TrackScript, Weight: 10, Reverse: true}, fail, 10, false},
		{Tracked{Kind: TrackInterface, Weight: -10, Reverse: true}, ok, -10, false},
		{Tracked{Kind: TrackInterface, Weight: -10, Reverse: true}, fail, 0, false},
		// files: weight 0 => FAULT on a non-zero value
		{Tracked{Kind: TrackFile, Weight: 0}, TrackResult{Value: 0}, 0, false},
		{Tracked{Kind: TrackFile, Weight: 0}, TrackResult{Value: 3}, 0, true},
		{Tracked{Kind: TrackFile, Weight: 0, Reverse: true}, TrackResult{Value: 0}, 0, true},
		// files: value x weight, reverse negates, below -253 => FAULT
		{Tracked{Kind: TrackFile, Weight: 2}, TrackResult{Value: 5}, 10, false},
		{Tracked{Kind: TrackFile, Weight: 2}, TrackResult{Value: -5}, -10, false},
		{Tracked{Kind: TrackFile, Weight: 2, Reverse: true}, TrackResult{Value: 5}, -10, false},
		{Tracked{Kind: TrackFile, Weight: 1}, TrackResult{Value: -253}, -253, false},
		{Tracked{Kind: TrackFile, Weight: 1}, TrackResult{Value: -254}, 0, true},
	} {
		adj, fault := tc.t.Effect(tc.r)
		if adj != tc.adj || fault != tc.fault {
			t.Errorf("%+v with %v: adjust %d fault %v, want %d %v", tc.t, tc.r, adj, fault, tc.adj, tc.fault)
		}
	}
}

func TestEffectivePriorityClamped(t *testing.T) {
	for _, tc := range []struct {
		base uint8
		adj  int
		want uint8
	}{
		{100, 0, 100}, {100, -60, 40}, {100, -200, 1}, {100, 200, 254}, {254, 1, 254},
		{255, -100, 255}, {255, 10, 255}, {1, -1, 1},
	} {
		if got := EffectivePriority(tc.base, tc.adj); got != tc.want {
			t.Errorf("EffectivePriority(%d, %d) = %d, want %d", tc.base, tc.adj, got, tc.want)
		}
	}
}

func actString2(as []Action) string {
	var s []string
	for _, a := range as {
		switch a := a.(type) {
		case PriorityChange:
			s = append(s, fmt.Sprintf("prio(%d->%d)", a.From, a.To))
		case SendGARP:
			s = append(s, "garp("+a.Kind.String()+")")
		default:
			s = append(s, actString(a))
		}
	}
	return strings.Join(s, " ")
}

func trackMT(t *testing.T, prio uint8, tracked ...Tracked) *mt {
	return newMT(t, func(c *MachineConfig) {
		c.Priority = prio
		c.Track = nil
		c.Tracked = tracked
	})
}

func becomeMaster(x *mt) {
	x.t.Helper()
	x.m.Start(x.now)
	x.at(mdi100 + time.Second)
	x.wantState(StateMaster)
}

// A master whose tracked script with a negative weight fails advertises the lowered
// priority at once; a backup of priority between the two then preempts it; on success the
// priority is restored and goes out at once too.
func TestMachineTrackWeightAdvertisedAtOnce(t *testing.T) {
	x := trackMT(t, 100, Tracked{Kind: TrackScript, Name: "chk", Weight: -60})
	becomeMaster(x)
	if got := actString2(x.m.Track(x.now, "script:chk", TrackResult{OK: true})); got != "" {
		t.Fatalf("success with a negative weight: %s", got)
	}
	if got := actString2(x.m.Track(x.now, "script:chk", TrackResult{OK: false})); got != "prio(100->40) advert(40)" {
		t.Fatalf("failure: %s", got)
	}
	if x.m.Priority() != 40 {
		t.Fatalf("priority %d", x.m.Priority())
	}
	// Same result again: nothing.
	if got := x.m.Track(x.now, "script:chk", TrackResult{OK: false}); got != nil {
		t.Fatalf("repeated result: %s", actString2(got))
	}
	// A backup at 50 now outranks us: its advert makes us backup.
	got := actString2(x.advert(highIP, 50))
	if !strings.Contains(got, "MASTER->BACKUP(higher priority master seen)") {
		t.Fatalf("advert 50 against 40: %s", got)
	}
	// Recovery restores 100; as a backup with preempt, the lower master's adverts are
	// discarded and we take over when the timer runs out.
	if got := actString2(x.m.Track(x.now, "script:chk", TrackResult{OK: true})); got != "prio(40->100)" {
		t.Fatalf("recovery: %s", got)
	}
	x.advert(highIP, 50)
	x.at(x.now.Sub(t0) + 5*time.Second)
	x.wantState(StateMaster)
}

func TestMachineTrackPositiveWeightAndOwner(t *testing.T) {
	x := trackMT(t, 100, Tracked{Kind: TrackScript, Name: "up", Weight: 20}, Tracked{Kind: TrackFile, Name: "f", Weight: 3})
	if got := actString2(x.m.Track(x.now, "script:up", TrackResult{OK: true})); got != "prio(100->120)" {
		t.Fatalf("before start: %s", got)
	}
	x.m.Track(x.now, "file:f", TrackResult{Value: 50})
	if x.m.Priority() != 254 {
		t.Fatalf("100+20+150 = %d, want clamped 254", x.m.Priority())
	}
	x.m.Track(x.now, "file:f", TrackResult{Value: -80})
	if x.m.Priority() != 1 {
		t.Fatalf("100+20-240 = %d, want clamped 1", x.m.Priority())
	}
	if got := x.m.Track(x.now, "script:nope", TrackResult{}); got != nil {
		t.Fatalf("unknown key: %s", actString2(got))
	}

	owner := trackMT(t, 255, Tracked{Kind: TrackScript, Name: "chk", Weight: -60}, Tracked{Kind: TrackScript, Name: "z"})
	owner.m.Start(owner.now)
	owner.wantState(StateMaster)
	if got := owner.m.Track(owner.now, "script:chk", TrackResult{OK: false}); got != nil || owner.m.Priority() != 255 {
		t.Fatalf("owner adjusted: %s, priority %d", actString2(got), owner.m.Priority())
	}
	// ... but a weight-0 failure still means FAULT.
	got := actString2(owner.m.Track(owner.now, "script:z", TrackResult{OK: false}))
	if got != "advert(0) remove MASTER->FAULT(tracked script or file failed)" {
		t.Fatalf("owner weight 0 failure: %s", got)
	}
}

func TestMachineTrackWeightZeroFault(t *testing.T) {
	x := trackMT(t, 100, Tracked{Kind: TrackScript, Name: "chk"}, Tracked{Kind: TrackInterface, Name: "eth1", Weight: -10})
	becomeMaster(x)
	// A weighted interface going down lowers the priority, no FAULT.
	if got := actString2(x.m.Link(x.now, "eth1", false)); got != "prio(100->90) advert(90)" {
		t.Fatalf("weighted interface down: %s", got)
	}
	if got := actString2(x.m.Track(x.now, "script:chk", TrackResult{OK: false})); got != "advert(0) remove MASTER->FAULT(tracked script or file failed)" {
		t.Fatalf("weight 0 failure: %s", got)
	}
	x.wantStamps(x.at(x.now.Sub(t0)+10*time.Second), "") // FAULT ignores time and adverts
	x.wantActs(x.advert(lowIP, 50), "")
	if got := actString2(x.m.Track(x.now, "script:chk", TrackResult{OK: true})); got != "remove FAULT->BACKUP(tracked items recovered)" {
		t.Fatalf("recovery: %s", got)
	}
	if got := actString2(x.m.Link(x.now, "eth1", true)); got != "prio(90->100)" {
		t.Fatalf("interface up: %s", got)
	}
}

// A script with init_fail reports a failure before Start: the instance starts in FAULT.
func TestMachineStartsInFaultOnFailedTrack(t *testing.T) {
	x := trackMT(t, 100, Tracked{Kind: TrackScript, Name: "chk"})
	x.m.Track(x.now, "script:chk", TrackResult{OK: false})
	x.wantActs(x.m.Start(x.now), "remove INIT->FAULT(tracked script or file failed)")
}

func TestMachineSyncEvents(t *testing.T) {
	x := trackMT(t, 100)
	x.m.Start(x.now)
	x.wantActs(x.m.SyncState(x.now, StateMaster), "advert(100) add garp BACKUP->MASTER(sync group)")
	x.wantActs(x.m.SyncState(x.now, StateMaster), "")
	x.wantActs(x.m.SyncState(x.now, StateBackup), "remove MASTER->BACKUP(sync group)")
	x.wantActs(x.m.SyncFault(x.now, true), "BACKUP->FAULT(sync group)")
	x.wantActs(x.m.SyncState(x.now, StateMaster), "") // FAULT does not follow
	x.wantActs(x.m.SyncFault(x.now, false), "remove FAULT->BACKUP(tracked items recovered)")
}

// Split brain healed: the master answers a lower master with an advert and a burst of the
// lower-priority kind, and a second one LowerPrioDelay later; garp_master_refresh repeats.
func TestMachineLowerPrioAndRefreshGARP(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) {
		c.LowerPrioDelay = 2 * time.Second
		c.RefreshInterval = 30 * time.Second
		c.GARPDelay = 0
	})
	becomeMaster(x) // at mdi100
	start := mdi100
	if got := actString2(x.advert(lowIP, 50)); got != "advert(100) garp(lower priority master seen)" {
		t.Fatalf("answer: %s", got)
	}
	var garps []string
	for _, s := range x.at(start + 40*time.Second) {
		if g, ok := s.a.(SendGARP); ok {
			garps = append(garps, fmt.Sprintf("%v:%v", s.at-start, g.Kind))
		}
	}
	if got := strings.Join(garps, " "); !strings.HasPrefix(got, "3s:lower priority master seen 30s:refresh") {
		t.Fatalf("GARP bursts: %s", got)
	}
}

func TestSyncCoordinator(t *testing.T) {
	g := NewSyncCoordinator("G", []string{"A", "B", "C"})
	str := func(os []SyncOrder) string {
		var s []string
		for _, o := range os {
			if o.Fault != nil {
				s = append(s, fmt.Sprintf("%s:fault=%v", o.Member, *o.Fault))
			} else {
				s = append(s, fmt.Sprintf("%s:%v", o.Member, o.State))
			}
		}
		return strings.Join(s, " ")
	}
	step := func(member string, from, to State, r Reason, want string, wantChanged bool, wantState State) {
		t.Helper()
		orders, changed := g.Observe(member, Transition{From: from, To: to, Reason: r})
		if got := str(orders); got != want || changed != wantChanged || g.State() != wantState {
			t.Fatalf("%s %v->%v (%v): orders %q changed %v state %v; want %q %v %v", member, from, to, r, got, changed, g.State(), want, wantChanged, wantState)
		}
	}
	step("A", StateInit, StateBackup, ReasonStartup, "", true, StateBackup) // others still starting
	step("B", StateInit, StateBackup, ReasonStartup, "", false, StateBackup)
	step("C", StateInit, StateBackup, ReasonStartup, "", false, StateBackup)
	// A becomes master by itself: the others follow; their own transitions do not echo.
	step("A", StateBackup, StateMaster, ReasonMasterDown, "B:MASTER C:MASTER", true, StateMaster)
	step("B", StateBackup, StateMaster, ReasonSyncGroup, "", false, StateMaster)
	step("C", StateBackup, StateMaster, ReasonSyncGroup, "", false, StateMaster)
	// B's link goes down: everybody else into FAULT.
	step("B", StateMaster, StateFault, ReasonInterfaceDown, "A:fault=true C:fault=true", true, StateFault)
	step("A", StateMaster, StateFault, ReasonSyncGroup, "", false, StateFault)
	step("C", StateMaster, StateFault, ReasonSyncGroup, "", false, StateFault)
	// C fails by itself as well; B recovering does not release the group yet.
	step("C", StateFault, StateFault, ReasonTrackFailed, "", false, StateFault)
	step("B", StateFault, StateBackup, ReasonInterfaceUp, "", false, StateFault)
	// C recovers: the group leaves FAULT.
	step("C", StateFault, StateBackup, ReasonTrackRecovered, "A:fault=false B:fault=false", true, StateBackup)
	step("A", StateFault, StateBackup, ReasonTrackRecovered, "", false, StateBackup)
	// A master that sees a better master goes back: the others follow.
	step("A", StateBackup, StateMaster, ReasonPreempt, "B:MASTER C:MASTER", true, StateMaster)
	step("B", StateBackup, StateMaster, ReasonSyncGroup, "", false, StateMaster)
	step("C", StateBackup, StateMaster, ReasonSyncGroup, "", false, StateMaster)
	step("C", StateMaster, StateBackup, ReasonHigherPriority, "A:BACKUP B:BACKUP", true, StateBackup)
	if o, _ := g.Observe("X", Transition{To: StateFault}); o != nil {
		t.Fatal("a non-member changed the group")
	}
}

func TestWarnLimiter(t *testing.T) {
	c := clocktest.NewFake(time.Time{})
	l := newWarnLimiter(10 * time.Second)
	if ok, n := l.allow("auth", c.Now()); !ok || n != 0 {
		t.Fatal("first line held back")
	}
	for i := 0; i < 5; i++ {
		c.Advance(time.Second)
		if ok, _ := l.allow("auth", c.Now()); ok {
			t.Fatalf("line %d within 10 s let through", i)
		}
	}
	if ok, _ := l.allow("ttl", c.Now()); !ok {
		t.Fatal("another cause held back")
	}
	c.Advance(5 * time.Second)
	if ok, n := l.allow("auth", c.Now()); !ok || n != 5 {
		t.Fatalf("after 10 s: ok %v suppressed %d, want true 5", ok, n)
	}
	if ok, _ := l.allow("auth", c.Now()); ok {
		t.Fatal("the window restarted")
	}
}

// syncBuf is a log sink safe for the instance's goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Adverts for our VRID dropped for a config mismatch are logged at WARN, once per cause per
// 10 s with the count of what was held back.
func TestRunDropsAreLoudAndRateLimited(t *testing.T) {
	l := newLab(t)
	logs := &syncBuf{}
	ca := baseConfig("A", 150, "10.0.0.1")
	a := l.addLogged(ca, slog.New(slog.NewTextHandler(logs, nil)))
	cb := baseConfig("B", 100, "10.0.0.2")
	cb.AuthPass = "other"
	b := l.add(cb)
	l.start(a)
	l.start(b)
	l.run(15 * time.Second) // both masters from about 4 s: each drops the other's adverts
	wantState(t, a, StateMaster)
	wantState(t, b, StateMaster)
	out := logs.String()
	lines := strings.Count(out, "authentication password differs")
	if lines != 2 {
		t.Fatalf("%d warnings in 11 s of drops, want 2 (one per 10 s):\n%s", lines, out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "split brain") || !strings.Contains(out, "suppressed=") {
		t.Fatalf("warning lacks level, cause or count:\n%s", out)
	}
	if st := a.inst.Status(); st.Drops["auth_data"] < 10 {
		t.Fatalf("drops %v", st.Drops)
	}
}

// A tracked script result changes the effective priority of a running master, which goes
// out in the next advert at once: the backup preempts, and gets it back on recovery.
func TestRunTrackHandsOverAndBack(t *testing.T) {
	l := newLab(t)
	ca := baseConfig("A", 150, "10.0.0.1")
	ca.InitialState = StateMaster
	ca.Tracked = []Tracked{{Kind: TrackScript, Name: "chk", Weight: -60}}
	logs := &syncBuf{}
	a := l.addLogged(ca, slog.New(slog.NewTextHandler(logs, nil)))
	b := l.add(baseConfig("B", 100, "10.0.0.2"))
	l.start(a)
	l.start(b)
	l.run(3 * time.Second)
	wantState(t, a, StateMaster)

	l.track(a, "script:chk", TrackResult{OK: false})
	if st := a.inst.Status(); st.EffectivePriority != 90 || len(st.Tracked) != 1 || st.Tracked[0].Effect != "-60" || !st.Tracked[0].Known {
		t.Fatalf("status after failure: prio %d tracked %+v", st.EffectivePriority, st.Tracked)
	}
	sent := a.conn.sentAdverts()
	if p := sent[len(sent)-1].adv.Priority; p != 90 {
		t.Fatalf("last advert priority %d, want 90 at once", p)
	}
	l.runUntil(func() bool { return b.state() == StateMaster }, 5*time.Second, "B preempts")
	l.run(100 * time.Millisecond)
	wantState(t, a, StateBackup)

	l.track(a, "script:chk", TrackResult{OK: true})
	l.runUntil(func() bool { return a.state() == StateMaster }, 5*time.Second, "A preempts back")
	l.run(100 * time.Millisecond)
	wantState(t, b, StateBackup)
	if !strings.Contains(logs.String(), "VRRP effective priority changed") || !strings.Contains(logs.String(), "script chk -60") {
		t.Fatalf("log lacks the priority change:\n%s", logs)
	}
}

// A reload that changes a tracked item's weight, or drops it, takes effect at once; the
// last result of an item still tracked is kept.
func TestMachineReconfigureTracked(t *testing.T) {
	cfg := func(tracked ...Tracked) MachineConfig {
		return MachineConfig{Priority: 100, AdvertInt: time.Second, Preempt: true, PrimaryIP: ourIP,
			InitialState: StateBackup, GARPDelay: 5 * time.Second, Interface: "eth0", Tracked: tracked}
	}
	x := trackMT(t, 100, Tracked{Kind: TrackScript, Name: "chk", Weight: -60})
	becomeMaster(x)
	x.m.Track(x.now, "script:chk", TrackResult{OK: false})
	if got := actString2(x.m.Reconfigure(x.now, cfg(Tracked{Kind: TrackScript, Name: "chk", Weight: -10}), false)); got != "prio(40->90) advert(90)" {
		t.Fatalf("weight -60 -> -10: %s", got)
	}
	if got := actString2(x.m.Reconfigure(x.now, cfg(Tracked{Kind: TrackScript, Name: "chk"}), false)); got != "prio(90->100) advert(0) remove MASTER->FAULT(tracked script or file failed)" {
		t.Fatalf("weight -10 -> 0 while failing: %s", got)
	}
	if got := actString2(x.m.Reconfigure(x.now, cfg(), false)); got != "remove FAULT->BACKUP(tracked items recovered)" {
		t.Fatalf("script dropped: %s", got)
	}
	if len(x.m.results) != 0 {
		t.Fatalf("results of untracked items kept: %v", x.m.results)
	}
}
