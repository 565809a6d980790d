package e2e

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/lvsd/lvsd/internal/netns"
)

// advert builds a VRRPv2 advertisement by hand (not with the project's codec: this is a
// black-box test). versionType is 0x21 for a VRRPv2 advert.
type advert struct {
	versionType byte
	vrid, prio  byte
	authType    byte
	advertInt   byte
	addrs       []string
	auth        string
	badChecksum bool
}

func (a advert) bytes() []byte {
	b := make([]byte, 8, 8+4*len(a.addrs)+8)
	b[0], b[1], b[2], b[3], b[4], b[5] = a.versionType, a.vrid, a.prio, byte(len(a.addrs)), a.authType, a.advertInt
	for _, s := range a.addrs {
		ip := netip.MustParseAddr(s).As4()
		b = append(b, ip[:]...)
	}
	var auth [8]byte
	copy(auth[:], a.auth)
	b = append(b, auth[:]...)
	sum := checksum(b)
	if a.badChecksum {
		sum ^= 0x5a5a
	}
	binary.BigEndian.PutUint16(b[6:], sum)
	return b
}

// checksum is the RFC 1071 Internet checksum.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// injector sends hand-made VRRP packets from a namespace of its own.
type injector struct {
	pc *ipv4.PacketConn
	c  net.PacketConn
}

func newInjector(t *testing.T, h *netns.Host) *injector {
	t.Helper()
	var in injector
	err := h.Do(func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName(h.If)
		if err != nil {
			c.Close()
			return err
		}
		in.c, in.pc = c, ipv4.NewPacketConn(c)
		return in.pc.SetMulticastInterface(ifi)
	})
	if err != nil {
		t.Fatalf("injector: %v", err)
	}
	t.Cleanup(func() { in.c.Close() })
	return &in
}

func (in *injector) send(t *testing.T, payload []byte, ttl int) {
	t.Helper()
	if err := in.pc.SetMulticastTTL(ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := in.pc.WriteTo(payload, nil, &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)}); err != nil {
		t.Fatalf("inject: %v", err)
	}
}

// sendTo sends payload by unicast to dst with TTL 255.
func (in *injector) sendTo(t *testing.T, payload []byte, dst string) {
	t.Helper()
	if err := in.pc.SetTTL(255); err != nil {
		t.Fatal(err)
	}
	if _, err := in.pc.WriteTo(payload, nil, &net.IPAddr{IP: net.ParseIP(dst)}); err != nil {
		t.Fatalf("inject: %v", err)
	}
}

// TestBadPacketsChangeNothing: a third namespace injects invalid adverts, each claiming a
// higher priority; the master stays master and counts each drop by reason. A valid advert
// with a higher priority then proves the injected packets do reach the daemon.
func TestBadPacketsChangeNothing(t *testing.T) {
	l := newLab(t)
	x, err := l.Lab.AddHost("x", "10.79.0.66"+Prefix)
	if err != nil {
		t.Fatal(err)
	}
	d := l.lvsd(l.R1, Spec{Priority: 100, AuthPass: "1111", State: "MASTER"})
	l.wantState(d, "MASTER", electTimeout)
	before, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	in := newInjector(t, x)
	good := advert{versionType: 0x21, vrid: 51, prio: 200, authType: 1, advertInt: 1, addrs: []string{VIP}, auth: "1111"}
	with := func(f func(*advert)) []byte { a := good; f(&a); return a.bytes() }
	cases := []struct {
		drop    string
		payload []byte
		ttl     int
	}{
		{"ttl", good.bytes(), 64}, // forged higher priority that crossed a router
		{"checksum", with(func(a *advert) { a.badChecksum = true }), 255},
		{"version", with(func(a *advert) { a.versionType = 0x31 }), 255},
		{"auth_data", with(func(a *advert) { a.auth = "2222" }), 255},
		{"auth_type", with(func(a *advert) { a.authType = 0 }), 255},
		{"advert_int", with(func(a *advert) { a.advertInt = 3 }), 255},
		{"vrid", with(func(a *advert) { a.vrid = 52 }), 255},
		{"truncated", good.bytes()[:6], 255},
	}
	const each = 3
	for _, c := range cases {
		for i := 0; i < each; i++ {
			in.send(t, c.payload, c.ttl)
		}
	}
	l.stable(d, "MASTER", 1500*time.Millisecond)
	after, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if after.Transitions != before.Transitions || after.AdvertsReceived != before.AdvertsReceived {
		t.Errorf("transitions %d -> %d, adverts received %d -> %d: bad packets must change nothing",
			before.Transitions, after.Transitions, before.AdvertsReceived, after.AdvertsReceived)
	}
	for _, c := range cases {
		if got := after.Drops[c.drop] - before.Drops[c.drop]; got < each {
			t.Errorf("drops[%q] grew by %d, want %d (drops: %v)", c.drop, got, each, after.Drops)
		}
	}
	l.wantVIP(l.R1, true, time.Second)

	// Control: the same advert, valid, makes the master step down.
	in.send(t, good.bytes(), 255)
	l.wantState(d, "BACKUP", 2*time.Second)
	st, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != "10.79.0.66" {
		t.Fatalf("master_ip %q after the valid advert, want 10.79.0.66", st.MasterIP)
	}
}
