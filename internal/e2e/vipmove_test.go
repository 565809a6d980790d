package e2e

import (
	"testing"
	"time"
)

// TestReloadMovesVIPBetweenInstances: a reload that moves a VIP from one MASTER instance
// to another on the same router leaves the address in place: the instance losing it lets
// go before the one gaining it adds it, whatever their order in the configuration.
func TestReloadMovesVIPBetweenInstances(t *testing.T) {
	l := newLab(t)
	one := func(vips ...string) Spec {
		s := Spec{Name: "VI_1", State: "MASTER", Priority: 150, AuthPass: "1111"}
		for _, v := range vips {
			s.VIPs = append(s.VIPs, v+"/32")
		}
		return s
	}
	d := l.lvsdMulti(l.R1, one(VIP, VIP2a), second(150, VIP2b))
	l.waitInstance(d, "VI_1", "MASTER", electTimeout)
	l.waitInstance(d, "VI_2", "MASTER", electTimeout)
	for _, ip := range []string{VIP, VIP2a, VIP2b} {
		if !HasVIP(l.R1, "eth0", ip) {
			t.Fatalf("%s missing before the reload", ip)
		}
	}
	// VIP2a moves from VI_1 to VI_2 (listed after it), then back (VI_1 gains it).
	for i, specs := range [][]Spec{
		{one(VIP), second(150, VIP2b, VIP2a)},
		{one(VIP, VIP2a), second(150, VIP2b)},
	} {
		l.rewrite(d, specs...)
		l.reload(d)
		time.Sleep(500 * time.Millisecond) // the instances apply their VIPs on their own loops
		for _, ip := range []string{VIP, VIP2a, VIP2b} {
			if !HasVIP(l.R1, "eth0", ip) {
				t.Fatalf("move %d: %s missing after the reload", i+1, ip)
			}
		}
	}
}
