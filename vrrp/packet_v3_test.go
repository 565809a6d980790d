package vrrp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

var (
	capSrc4 = netip.MustParseAddr("10.99.0.1")
	capSrc6 = netip.MustParseAddr("fe80::ff:fe00:1")

	keepalivedV3IPv4 = Advert{Version: Version3, VRID: 52, Priority: 200, MaxAdvertInt: 10, Checksum: 0x979d,
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.20"), netip.MustParseAddr("192.0.2.21")}}
	keepalivedV3IPv6 = Advert{Version: Version3, VRID: 53, Priority: 150, MaxAdvertInt: 100, Checksum: 0xdf81,
		Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::20"), netip.MustParseAddr("2001:db8::21")}}
)

func TestKeepalivedV3Captures(t *testing.T) {
	for _, tc := range []struct {
		file     string
		src, dst netip.Addr
		want     Advert
	}{
		{"keepalived-2.2.7-v3-ipv4.hex", capSrc4, MulticastGroup, keepalivedV3IPv4},
		{"keepalived-2.2.7-v3-ipv6.hex", capSrc6, MulticastGroup6, keepalivedV3IPv6},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readHex(t, tc.file)
			got, err := Parse(b, tc.src, tc.dst)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !equalAdvert(got, tc.want) || got.Version != Version3 || got.MaxAdvertInt != tc.want.MaxAdvertInt {
				t.Fatalf("Parse = %+v, want %+v", got, tc.want)
			}
			a := tc.want
			a.Checksum = 0
			enc, err := a.Marshal(tc.src, tc.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("Marshal =\n% x\nwant\n% x", enc, b)
			}
			// The checksum covers the pseudo-header: another destination breaks it.
			other := netip.MustParseAddr("10.99.0.2")
			if tc.src.Is6() {
				other = netip.MustParseAddr("fe80::2")
			}
			if _, err := Parse(b, tc.src, other); !errors.Is(err, ErrChecksum) {
				t.Fatalf("Parse with another destination = %v, want checksum error", err)
			}
			if _, err := Parse(b, other, tc.dst); !errors.Is(err, ErrChecksum) {
				t.Fatalf("Parse with another source = %v, want checksum error", err)
			}
		})
	}
}

func TestV3RoundTripAllCounts(t *testing.T) {
	for _, fam := range []struct{ src, dst netip.Addr }{
		{netip.MustParseAddr("192.0.2.1"), MulticastGroup},
		{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")},
		{netip.MustParseAddr("fe80::1"), MulticastGroup6},
		{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::2")},
	} {
		for n := 0; n <= MaxAddrs; n += 17 {
			a := Advert{Version: Version3, VRID: uint8(n + 1), Priority: uint8(n), MaxAdvertInt: uint16(n*16 + 1)}
			for i := range n {
				if fam.src.Is4() {
					a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte{10, 1, byte(i), 1}))
				} else {
					a.Addrs = append(a.Addrs, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}))
				}
			}
			b, err := a.Marshal(fam.src, fam.dst)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != a.Len() {
				t.Fatalf("len %d, Len() %d", len(b), a.Len())
			}
			back, err := Parse(b, fam.src, fam.dst)
			if err != nil {
				t.Fatalf("%v n=%d: %v", fam.src, n, err)
			}
			a.Checksum = back.Checksum
			if !equalAdvert(a, back) || back.MaxAdvertInt != a.MaxAdvertInt || back.Version != Version3 {
				t.Fatalf("%v n=%d: round trip %+v, want %+v", fam.src, n, back, a)
			}
		}
	}
}

func TestV3ParseErrors(t *testing.T) {
	good := readHex(t, "keepalived-2.2.7-v3-ipv4.hex")
	good6 := readHex(t, "keepalived-2.2.7-v3-ipv6.hex")
	for _, tc := range []struct {
		name     string
		in       []byte
		src, dst netip.Addr
		want     error
	}{
		{"no source", good, netip.Addr{}, MulticastGroup, ErrMalformed},
		{"mixed families", good, capSrc6, MulticastGroup, ErrMalformed},
		{"IPv6 packet read as IPv4", good6, capSrc4, MulticastGroup, ErrMalformed},
		{"IPv4 packet read as IPv6", good, capSrc6, MulticastGroup6, ErrTruncated},
		{"truncated", good[:12], capSrc4, MulticastGroup, ErrTruncated},
		{"trailing bytes", append(bytes.Clone(good), 0, 0, 0, 0), capSrc4, MulticastGroup, ErrMalformed},
		{"checksum", func() []byte { b := bytes.Clone(good); b[7] ^= 1; return b }(), capSrc4, MulticastGroup, ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.in, tc.src, tc.dst); !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestV3Interval(t *testing.T) {
	for _, tc := range []struct {
		d  time.Duration
		cs uint16
	}{
		{10 * time.Millisecond, 1},
		{100 * time.Millisecond, 10},
		{time.Second, 100},
		{1234 * time.Millisecond, 123},
		{1235 * time.Millisecond, 124}, // nearest centisecond
		{40950 * time.Millisecond, MaxAdvertIntV3},
		{0, 0},
	} {
		if got := Centiseconds(tc.d); got != tc.cs {
			t.Errorf("Centiseconds(%v) = %d, want %d", tc.d, got, tc.cs)
		}
	}
	a := Advert{Version: Version3, MaxAdvertInt: 10}
	if got := a.Interval(); got != 100*time.Millisecond {
		t.Fatalf("Interval = %v", got)
	}
	// The 4 reserved bits are ignored on receipt.
	b := readHex(t, "keepalived-2.2.7-v3-ipv4.hex")
	b[4] |= 0xf0
	b[6], b[7] = 0, 0
	c := PseudoChecksum(capSrc4, MulticastGroup, b)
	b[6], b[7] = byte(c>>8), byte(c)
	got, err := Parse(b, capSrc4, MulticastGroup)
	if err != nil || got.MaxAdvertInt != 10 {
		t.Fatalf("Parse with reserved bits = %+v, %v", got, err)
	}
	// More than 12 bits does not encode.
	a.MaxAdvertInt = MaxAdvertIntV3 + 1
	if _, err := a.Marshal(capSrc4, MulticastGroup); err == nil {
		t.Fatal("interval 4096 cs encoded")
	}
}

func TestV3MarshalErrors(t *testing.T) {
	a := keepalivedV3IPv4
	if _, err := a.Marshal(netip.Addr{}, MulticastGroup); err == nil {
		t.Fatal("encoded without a source")
	}
	if _, err := a.Marshal(capSrc6, MulticastGroup6); err == nil {
		t.Fatal("IPv4 addresses encoded in an IPv6 advert")
	}
	a.Version = 4
	if _, err := a.Marshal(capSrc4, MulticastGroup); err == nil {
		t.Fatal("version 4 encoded")
	}
}

func TestV3ReceiveChecks(t *testing.T) {
	peer := netip.MustParseAddr("fe80::2")
	base := receiveChecks{version: Version3, vrid: 53, maxInt: 100,
		addrs: keepalivedV3IPv6.Addrs, self: netip.MustParseAddr("fe80::1")}
	enc := func(f func(a *Advert)) Packet {
		a := keepalivedV3IPv6
		if f != nil {
			f(&a)
		}
		b, err := a.Marshal(peer, MulticastGroup6)
		if err != nil {
			t.Fatal(err)
		}
		return Packet{Src: peer, Dst: MulticastGroup6, TTL: 255, Payload: b}
	}
	for _, tc := range []struct {
		name     string
		pkt      Packet
		want     DropReason
		interval bool
	}{
		{name: "valid", pkt: enc(nil)},
		{name: "hop limit 254", pkt: func() Packet { p := enc(nil); p.TTL = 254; return p }(), want: DropTTL},
		{name: "interval differs: accepted", pkt: enc(func(a *Advert) { a.MaxAdvertInt = 10 }), interval: true},
		{name: "interval 0", pkt: enc(func(a *Advert) { a.MaxAdvertInt = 0 }), want: DropAdvertInt},
		{name: "other vrid", pkt: enc(func(a *Advert) { a.VRID = 1 }), want: DropVRID},
		{name: "checksum over another destination", pkt: func() Packet { p := enc(nil); p.Dst = netip.MustParseAddr("ff02::1"); return p }(), want: DropChecksum},
		{name: "VRRPv2 advert", pkt: func() Packet {
			b, _ := keepalivedAdvert.Marshal(netip.Addr{}, netip.Addr{})
			return Packet{Src: peer, Dst: MulticastGroup6, TTL: 255, Payload: b}
		}(), want: DropVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			r := c.check(tc.pkt)
			if r.Drop != tc.want || r.IntervalMismatch != tc.interval {
				t.Fatalf("drop = %v interval mismatch %v, want %v %v (err %v)", r.Drop, r.IntervalMismatch, tc.want, tc.interval, r.Err)
			}
		})
	}
}

func TestNAFrameMatchesKeepalived(t *testing.T) {
	want := readHex(t, "keepalived-2.2.7-na.hex")
	got, err := NAFrame(net.HardwareAddr{2, 0, 0, 0, 0, 1}, netip.MustParseAddr("2001:db8::20"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("NAFrame =\n% x\nwant\n% x", got, want)
	}
	if _, err := NAFrame(net.HardwareAddr{2, 0, 0, 0, 0, 1}, netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Fatal("NA for an IPv4 address")
	}
	if _, err := NAFrame(net.HardwareAddr{2, 0, 0}, netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Fatal("NA with a 3-byte hardware address")
	}
}
