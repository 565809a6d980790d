package e2e

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// lvsdBin is the binary under test, built once by TestMain (or $LVSD_BIN).
var (
	lvsdBin    string
	lvsdBinErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	var dir string
	if !testing.Short() && os.Geteuid() == 0 {
		var err error
		dir, err = os.MkdirTemp("", "lvsd-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		lvsdBin, lvsdBinErr = BuildLvsd(dir)
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// lab is one test's topology: r1, r2 and a client on one bridge, deleted at cleanup.
type lab struct {
	*Topology
	t   *testing.T
	dir string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	netns.RequireRoot(t, testing.Short())
	if lvsdBinErr != nil {
		t.Fatalf("build lvsd: %v", lvsdBinErr)
	}
	l := netns.New(t)
	topo, err := NewTopology(l)
	if err != nil {
		t.Fatal(err)
	}
	return &lab{Topology: topo, t: t, dir: t.TempDir()}
}

// lvsd starts lvsd on h and logs its output if the test fails.
func (l *lab) lvsd(h *netns.Host, s Spec) *Lvsd {
	l.t.Helper()
	return l.lvsdMulti(h, s)
}

// lvsdMulti is lvsd with one vrrp_instance per spec.
func (l *lab) lvsdMulti(h *netns.Host, specs ...Spec) *Lvsd {
	l.t.Helper()
	d, err := StartLvsdMulti(lvsdBin, h, fmt.Sprintf("%s/%s-%d", l.dir, h.Name, time.Now().UnixNano()), specs...)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		d.Proc.Kill()
		if l.t.Failed() {
			l.t.Logf("lvsd on %s:\n%s", h.Name, d.Proc.Output())
		}
	})
	return d
}

// keepalived starts keepalived on h, logs its output if the test fails and kills what is
// left of it at cleanup.
func (l *lab) keepalived(h *netns.Host, s Spec) *Keepalived {
	l.t.Helper()
	k, err := StartKeepalived(h, fmt.Sprintf("%s/ka-%s-%d", l.dir, h.Name, time.Now().UnixNano()), s)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		k.Cleanup()
		if l.t.Failed() {
			l.t.Logf("keepalived on %s:\n%s", h.Name, k.Log())
		}
	})
	return k
}

func (l *lab) wantState(d *Lvsd, state string, timeout time.Duration) {
	l.t.Helper()
	if err := d.WaitState("VI_1", state, timeout); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) wantVIP(h *netns.Host, present bool, timeout time.Duration) {
	l.t.Helper()
	if err := WaitVIP(h, VIP, present, timeout); err != nil {
		l.t.Fatal(err)
	}
}

// wantARP checks that the client gets an ARP reply for the VIP from h.
func (l *lab) wantARP(h *netns.Host, timeout time.Duration) {
	l.t.Helper()
	s, err := l.Client.OpenARP(netip.MustParseAddr(ClientIP))
	if err != nil {
		l.t.Fatal(err)
	}
	defer s.Close()
	if _, err := ARPFrom(s, VIP, h.MAC, timeout); err != nil {
		l.t.Fatalf("client ARP for the VIP: %v (want %s's %s)", err, h.Name, h.MAC)
	}
}

// stable waits d and checks that the instance stayed in state throughout.
func (l *lab) stable(d *Lvsd, state string, dur time.Duration) {
	l.t.Helper()
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		st, err := d.Instance("VI_1")
		if err != nil {
			l.t.Fatal(err)
		}
		if st.State != state {
			l.t.Fatalf("lvsd on %s went %s, want it to stay %s", d.Host.Name, st.State, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
