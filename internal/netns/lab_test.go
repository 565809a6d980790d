package netns

import (
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLab(t *testing.T) {
	RequireRoot(t, testing.Short())
	l := New(t)
	a := l.MustAddHost(t, "a", "10.77.0.1/24")
	b := l.MustAddHost(t, "b", "10.77.0.2/24")
	arp, err := a.OpenARP(netip.MustParseAddr("10.77.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer arp.Close()
	mac, err := arp.Resolve(netip.MustParseAddr("10.77.0.2"), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if mac.String() != b.MAC {
		t.Fatalf("ARP reply from %s, want b's %s", mac, b.MAC)
	}
	if err := a.Ping(netip.MustParseAddr("10.77.0.2"), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(netip.MustParseAddr("10.77.0.99"), 500*time.Millisecond); err == nil {
		t.Fatal("ping of an absent address succeeded")
	}
	if ok, err := b.HasAddr("eth0", "10.77.0.2"); err != nil || !ok {
		t.Fatalf("HasAddr = %v, %v", ok, err)
	}
	// Do runs Go code inside the namespace and returns to the original one.
	var names []string
	if err := b.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "lo,eth0" {
		t.Fatalf("interfaces in %s = %v, want lo,eth0", b.NS, names)
	}
	p, err := a.Start("sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if done, _ := p.Wait(5 * time.Second); !done {
		t.Fatal("sleep did not stop on SIGTERM")
	}
	l.Close()
	if out, _ := IP("netns", "list"); strings.Contains(out, l.Prefix) {
		t.Fatalf("namespaces left after Close:\n%s", out)
	}
}
