package vrrp

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// TestInstancesOverRealEffects runs two Instances in one process, each in its own lab
// namespace with the real Linux effects: the higher priority becomes MASTER and holds the
// VIP, and a graceful stop (priority-0 advert) hands it to the other quickly.
func TestInstancesOverRealEffects(t *testing.T) {
	hs := effectsLab(t, "a", "b")
	a, b := hs[0], hs[1]
	vip := netip.MustParsePrefix("10.78.0.100/32")

	type node struct {
		inst *Instance
		stop context.CancelFunc
		done chan struct{}
	}
	start := func(h *netns.Host, prio uint8, primary string, initial State) *node {
		t.Helper()
		cfg := InstanceConfig{
			Name: "VI_1", Interface: h.If, VRID: 51, Priority: prio, AdvertInt: time.Second,
			Preempt: true, AuthType: AuthPass, AuthPass: "1111",
			VIPs:      []VIP{{Prefix: vip, Label: h.If + ":0"}},
			PrimaryIP: netip.MustParseAddr(primary), InitialState: initial, GARPRepeat: 1,
		}
		ctx, cancel := context.WithCancel(context.Background())
		var inst *Instance
		err := h.Do(func() error {
			conn, err := NewConn(h.If, netip.Addr{}, nil)
			if err != nil {
				return err
			}
			links, err := NewLinkWatcher().Watch(ctx, []string{h.If})
			if err != nil {
				conn.Close()
				return err
			}
			inst, err = NewInstance(cfg, Deps{Conn: conn, Addresses: NewAddresses(), Announcer: NewAnnouncer(), Links: links})
			if err != nil {
				conn.Close()
			}
			return err
		})
		if err != nil {
			cancel()
			t.Fatalf("instance in %s: %v", h.Name, err)
		}
		n := &node{inst: inst, stop: cancel, done: make(chan struct{})}
		go func() { defer close(n.done); inst.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-n.done })
		return n
	}
	waitState := func(n *node, want State, within time.Duration) {
		t.Helper()
		end := time.Now().Add(within)
		for time.Now().Before(end) {
			if n.inst.Status().State == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: state %v after %v, want %v", n.inst.Status().Name, n.inst.Status().State, within, want)
	}
	hasVIP := func(h *netns.Host) bool {
		ok, err := h.HasAddr(h.If, vip.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	na := start(a, 150, "10.78.0.1", StateMaster)
	nb := start(b, 100, "10.78.0.2", StateBackup)
	waitState(na, StateMaster, 2*time.Second)
	waitState(nb, StateBackup, 2*time.Second)
	time.Sleep(1500 * time.Millisecond) // b hears adverts and stays BACKUP
	if st := nb.inst.Status(); st.State != StateBackup || st.MasterIP != "10.78.0.1" || st.AdvertsReceived == 0 {
		t.Fatalf("b: %+v, want BACKUP following 10.78.0.1", st)
	}
	if !hasVIP(a) || hasVIP(b) {
		t.Fatalf("VIP on a: %v, on b: %v; want a only", hasVIP(a), hasVIP(b))
	}
	for _, n := range []*node{na, nb} {
		for reason, c := range n.inst.Status().Drops {
			if c != 0 {
				t.Errorf("%s dropped %d packets for %s", n.inst.Status().Name, c, reason)
			}
		}
	}

	na.stop()
	select {
	case <-na.done:
	case <-time.After(3 * time.Second):
		t.Fatal("a's Run did not return within 3s of cancel")
	}
	// The priority-0 advert makes b take over after Skew_Time (0.6 s), well before
	// Master_Down_Interval (3.6 s) would expire.
	waitState(nb, StateMaster, 2500*time.Millisecond)
	if hasVIP(a) || !hasVIP(b) {
		t.Fatalf("after a stopped: VIP on a: %v, on b: %v; want b only", hasVIP(a), hasVIP(b))
	}
}
