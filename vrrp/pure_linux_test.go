package vrrp

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Unit tests of the pure parts of the Linux effects (no root needed).

func TestGARPFrame(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:aa:bb:cc")
	f, err := GARPFrame(mac, netip.MustParseAddr("10.0.0.5"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString(
		"ffffffffffff" + "020000aabbcc" + "0806" + // broadcast, from us, ARP
			"0001" + "0800" + "06" + "04" + "0001" + // Ethernet/IPv4, request
			"020000aabbcc" + "0a000005" + // sender = us, the VIP
			"000000000000" + "0a000005") // target MAC zero, target IP = the VIP
	want = append(want, make([]byte, 18)...) // padded to the 60-byte minimum
	if !bytes.Equal(f, want) {
		t.Fatalf("GARP frame\n got % x\nwant % x", f, want)
	}
	if _, err := GARPFrame(mac, netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("IPv6 address: want an error")
	}
	if _, err := GARPFrame(net.HardwareAddr{1, 2, 3}, netip.MustParseAddr("10.0.0.5")); err == nil {
		t.Error("short MAC: want an error")
	}
}

func TestLinkUp(t *testing.T) {
	const upRunning = unix.IFF_UP | unix.IFF_LOWER_UP
	cases := []struct {
		name  string
		flags uint32
		oper  netlink.LinkOperState
		want  bool
	}{
		{"veth both ends up", upRunning, netlink.OperUp, true},
		{"dummy/tun: operstate unknown with carrier", upRunning, netlink.OperUnknown, true},
		{"admin down", unix.IFF_LOWER_UP, netlink.OperDown, false},
		{"veth whose peer is down", unix.IFF_UP, netlink.OperLowerLayerDown, false},
		{"no carrier, operstate unknown", unix.IFF_UP, netlink.OperUnknown, false},
		{"dormant", upRunning, netlink.OperDormant, false},
	}
	for _, c := range cases {
		if got := linkUp(&netlink.LinkAttrs{RawFlags: c.flags, OperState: c.oper}); got != c.want {
			t.Errorf("%s: linkUp = %v, want %v", c.name, got, c.want)
		}
	}
}
