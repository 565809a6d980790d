package healthcheck

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"
)

// TestManagerApply reloads a running manager: an unchanged checker keeps its state (a down
// real server stays out of the destinations), weights change in place, new real servers
// and virtual servers start, removed ones stop, and a changed checker starts over.
func TestManagerApply(t *testing.T) {
	rsA, rsB, rsC := netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("10.0.0.2:80"), netip.MustParseAddrPort("10.0.0.3:80")
	down, up := &toggle{}, &toggle{}
	up.up.Store(true)
	vs := func(rss ...RealServer) VirtualServer {
		return VirtualServer{Name: "vs", Quorum: 1, DelayLoop: 10 * time.Millisecond, RealServers: rss}
	}
	a := RealServer{Address: rsA, Weight: 1, Checks: []Check{{Custom: down}}}
	b := RealServer{Address: rsB, Weight: 1, Checks: []Check{{Custom: up}}}
	ch := &changes{ch: make(chan string, 100)}
	m, err := NewManager([]VirtualServer{vs(a, b)}, Options{OnChange: ch.record, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	ch.expect(t, "vs: 10.0.0.1:80 w1; 10.0.0.2:80 w1")
	ch.expect(t, "vs: 10.0.0.2:80 w1") // A's first check fails
	failures := func(addr netip.AddrPort) int {
		for _, v := range m.Status() {
			for _, r := range v.RealServers {
				if r.Address == addr {
					return r.Failures
				}
			}
		}
		return -1
	}
	waitFor(t, func() bool { return failures(rsA) >= 3 })

	// B's weight changes, C is new, A is unchanged: A stays down and keeps its counters.
	b.Weight = 5
	c := RealServer{Address: rsC, Weight: 2, Checks: []Check{{Custom: up}}}
	if err := m.Apply([]VirtualServer{vs(a, b, c)}); err != nil {
		t.Fatal(err)
	}
	ch.expect(t, "vs: 10.0.0.2:80 w5; 10.0.0.3:80 w2")
	if n := failures(rsA); n < 3 {
		t.Errorf("A's failure count after reload = %d, want the running count (>= 3)", n)
	}

	// A's checker changes: it starts over (up, as without alpha) until its check fails.
	a.Checks = []Check{{Custom: down, DelayBeforeRetry: time.Second}}
	if err := m.Apply([]VirtualServer{vs(a, b, c)}); err != nil {
		t.Fatal(err)
	}
	ch.expect(t, "vs: 10.0.0.1:80 w1; 10.0.0.2:80 w5; 10.0.0.3:80 w2")
	ch.expect(t, "vs: 10.0.0.2:80 w5; 10.0.0.3:80 w2")

	// A removed, a second virtual server added.
	other := VirtualServer{Name: "other", Quorum: 1, DelayLoop: time.Hour, RealServers: []RealServer{{Address: rsA, Weight: 1}}}
	if err := m.Apply([]VirtualServer{vs(b, c), other}); err != nil {
		t.Fatal(err)
	}
	ch.expect(t, "other: 10.0.0.1:80 w1")
	st := m.Status()
	if len(st) != 2 || st[0].Name != "vs" || len(st[0].RealServers) != 2 || st[1].Name != "other" {
		t.Errorf("status after reload: %+v", st)
	}

	// The same configuration again keeps each virtual server's running real servers as
	// they are, without rebuilding them.
	m.mu.Lock()
	before := m.vss["vs"].servers
	m.mu.Unlock()
	if err := m.Apply([]VirtualServer{vs(b, c), other}); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	after := m.vss["vs"].servers
	m.mu.Unlock()
	if len(after) != len(before) || &after[0] != &before[0] {
		t.Error("an unchanged virtual server's real servers were rebuilt by Apply")
	}

	// A bad configuration changes nothing.
	if err := m.Apply([]VirtualServer{{Name: "vs", Quorum: 0, DelayLoop: time.Second}}); err == nil {
		t.Error("Apply accepted quorum 0")
	}
	if st := m.Status(); len(st) != 2 {
		t.Errorf("a refused Apply changed the virtual servers: %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
