package vrrp

import (
	"net/netip"
	"testing"
)

func TestDropReasonStrings(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range DropReasons() {
		s := r.String()
		if s == "" || s == "unknown" || s == "none" || seen[s] {
			t.Fatalf("reason %d has bad or duplicate name %q", int(r), s)
		}
		seen[s] = true
	}
	if DropReason(-1).String() != "unknown" || dropCount.String() != "unknown" {
		t.Fatal("out-of-range reason not unknown")
	}
}

func TestReceiveChecks(t *testing.T) {
	ip := netip.MustParseAddr
	base := receiveChecks{
		vrid: 51, authType: AuthPass, authData: AuthPassData("secret12"), advertInt: 1,
		addrs: []netip.Addr{ip("192.0.2.10"), ip("192.0.2.11")},
		self:  ip("192.0.2.1"),
	}
	good := keepalivedAdvert
	enc := func(f func(a *Advert)) []byte {
		a := good
		a.Addrs = append([]netip.Addr(nil), good.Addrs...)
		if f != nil {
			f(&a)
		}
		b, err := a.Marshal(netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	peer := ip("192.0.2.2")
	for _, tc := range []struct {
		name     string
		c        func(c *receiveChecks)
		pkt      Packet
		want     DropReason
		mismatch bool
	}{
		{name: "valid", pkt: Packet{Src: peer, TTL: 255, Payload: enc(nil)}},
		{name: "ttl 254", pkt: Packet{Src: peer, TTL: 254, Payload: enc(nil)}, want: DropTTL},
		{name: "ttl 1", pkt: Packet{Src: peer, TTL: 1, Payload: enc(nil)}, want: DropTTL},
		{name: "truncated", pkt: Packet{Src: peer, TTL: 255, Payload: enc(nil)[:10]}, want: DropTruncated},
		{name: "version 3", pkt: Packet{Src: peer, Dst: MulticastGroup, TTL: 255, Payload: func() []byte {
			a := Advert{Version: Version3, VRID: 51, Priority: 100, MaxAdvertInt: 100, Addrs: good.Addrs}
			b, err := a.Marshal(peer, MulticastGroup)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}()}, want: DropVersion},
		{name: "version 3 in a VRRPv2 layout", pkt: Packet{Src: peer, TTL: 255, Payload: func() []byte {
			b := enc(nil)
			b[0] = 0x31 // what a misconfigured peer or a forged packet may carry
			return b
		}()}, want: DropVersion},
		{name: "type", pkt: Packet{Src: peer, TTL: 255, Payload: func() []byte {
			b := enc(nil)
			b[0] = 0x23
			return b
		}()}, want: DropType},
		{name: "checksum", pkt: Packet{Src: peer, TTL: 255, Payload: func() []byte {
			b := enc(nil)
			b[6]++
			return b
		}()}, want: DropChecksum},
		{name: "other vrid", pkt: Packet{Src: peer, TTL: 255, Payload: enc(func(a *Advert) { a.VRID = 52 })}, want: DropVRID},
		{name: "auth type none", pkt: Packet{Src: peer, TTL: 255, Payload: enc(func(a *Advert) { a.AuthType = AuthNone })}, want: DropAuthType},
		{name: "auth type AH", pkt: Packet{Src: peer, TTL: 255, Payload: enc(func(a *Advert) { a.AuthType = AuthAH })}, want: DropAuthType},
		{name: "wrong password", pkt: Packet{Src: peer, TTL: 255, Payload: enc(func(a *Advert) { a.AuthData = AuthPassData("secret13") })}, want: DropAuthData},
		{name: "no auth ignores auth data", c: func(c *receiveChecks) { c.authType = AuthNone },
			pkt: Packet{Src: peer, TTL: 255, Payload: enc(func(a *Advert) { a.AuthType = AuthNone; a.AuthData = AuthPassData("junk") })}},
		{name: "advert_int", pkt: Packet{Src: peer, TTL: 255, Payload: enc(func(a *Advert) { a.AdvertInt = 2 })}, want: DropAdvertInt},
		{name: "address list differs: accepted", pkt: Packet{Src: peer, TTL: 255,
			Payload: enc(func(a *Advert) { a.Addrs = a.Addrs[:1] })}, mismatch: true},
		{name: "address order differs: same set", pkt: Packet{Src: peer, TTL: 255,
			Payload: enc(func(a *Advert) { a.Addrs[0], a.Addrs[1] = a.Addrs[1], a.Addrs[0] })}},
		{name: "we are owner", c: func(c *receiveChecks) { c.owner = true },
			pkt: Packet{Src: peer, TTL: 255, Payload: enc(nil)}, want: DropOwner},
		{name: "own packet looped back", pkt: Packet{Src: ip("192.0.2.1"), TTL: 255, Payload: enc(nil)}, want: DropOwnPacket},
		{name: "unicast: from peer", c: func(c *receiveChecks) { c.peers = []netip.Addr{peer} },
			pkt: Packet{Src: peer, TTL: 255, Payload: enc(nil)}},
		{name: "unicast: not a peer", c: func(c *receiveChecks) { c.peers = []netip.Addr{peer} },
			pkt: Packet{Src: ip("192.0.2.99"), TTL: 255, Payload: enc(nil)}, want: DropNotPeer},
		{name: "ttl checked before decoding", pkt: Packet{Src: peer, TTL: 64, Payload: []byte{1}}, want: DropTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			if tc.c != nil {
				tc.c(&c)
			}
			r := c.check(tc.pkt)
			if r.Drop != tc.want {
				t.Fatalf("drop = %v, want %v (err %v)", r.Drop, tc.want, r.Err)
			}
			if r.AddrMismatch != tc.mismatch {
				t.Fatalf("address mismatch = %v, want %v", r.AddrMismatch, tc.mismatch)
			}
			if tc.want == DropNone && r.Advert.VRID != 51 {
				t.Fatalf("accepted advert not returned: %+v", r.Advert)
			}
		})
	}
}
