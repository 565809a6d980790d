package lvs

import (
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"syscall"
	"testing"

	"github.com/moby/ipvs"
)

// nativeMask is what the kernel must receive for an IPVS_SVC_ATTR_NETMASK of an IPv4
// service: the mask's network-order bytes, which moby/ipvs writes as a native uint32.
func nativeMask(a string) uint32 {
	b := netip.MustParseAddr(a).As4()
	return binary.NativeEndian.Uint32(b[:])
}

func TestToIPVS(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Service
		want ipvs.Service
	}{
		{
			name: "tcp v4 default scheduler",
			in:   Service{Key: AddrKey(TCP, netip.MustParseAddr("10.0.0.1"), 80)},
			want: ipvs.Service{Address: net.IP{10, 0, 0, 1}, Protocol: 6, Port: 80, SchedName: "wlc",
				AddressFamily: syscall.AF_INET, Netmask: 0xffffffff},
		},
		{
			name: "persistent with /24 granularity",
			in: Service{Key: AddrKey(UDP, netip.MustParseAddr("10.0.0.1"), 53), Scheduler: "rr",
				Persistence: 300, NetmaskBits: 24},
			want: ipvs.Service{Address: net.IP{10, 0, 0, 1}, Protocol: 17, Port: 53, SchedName: "rr",
				Flags: FlagPersistent, Timeout: 300, AddressFamily: syscall.AF_INET,
				Netmask: nativeMask("255.255.255.0")},
		},
		{
			name: "netmask without persistence is not sent",
			in: Service{Key: AddrKey(TCP, netip.MustParseAddr("10.0.0.1"), 80), Scheduler: "rr",
				NetmaskBits: 24},
			want: ipvs.Service{Address: net.IP{10, 0, 0, 1}, Protocol: 6, Port: 80, SchedName: "rr",
				AddressFamily: syscall.AF_INET, Netmask: 0xffffffff},
		},
		{
			name: "fwmark with sched flags and one-packet",
			in:   Service{Key: FWMarkKey(IPv4, 3), Scheduler: "sh", Flags: FlagSched1 | FlagSched2 | FlagOnePacket},
			want: ipvs.Service{FWMark: 3, SchedName: "sh", Flags: 0x1c, AddressFamily: syscall.AF_INET,
				Netmask: 0xffffffff},
		},
		{
			name: "ipv6 persistent /64",
			in: Service{Key: AddrKey(SCTP, netip.MustParseAddr("2001:db8::1"), 443), Scheduler: "mh",
				Persistence: 60, NetmaskBits: 64},
			want: ipvs.Service{Address: net.ParseIP("2001:db8::1"), Protocol: 132, Port: 443, SchedName: "mh",
				Flags: FlagPersistent, Timeout: 60, AddressFamily: syscall.AF_INET6, Netmask: 64},
		},
		{
			name: "ipv6 default netmask is 128 (the kernel refuses 0)",
			in:   Service{Key: FWMarkKey(IPv6, 7), Scheduler: "rr"},
			want: ipvs.Service{FWMark: 7, SchedName: "rr", AddressFamily: syscall.AF_INET6, Netmask: 128},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ToIPVS(&tc.in)
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("ToIPVS:\n got %+v\nwant %+v", *got, tc.want)
			}
			// And back: the model survives the round trip.
			back := FromIPVS(got, nil)
			want := tc.in
			want.Key = want.Key.Normalize()
			if want.Scheduler == "" {
				want.Scheduler = DefaultScheduler
			}
			if want.Persistence == 0 {
				want.NetmaskBits = 0
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("FromIPVS(ToIPVS(x)):\n got %+v\nwant %+v", back, want)
			}
		})
	}
}

func TestFromIPVS(t *testing.T) {
	in := &ipvs.Service{
		Address: net.IP{10, 1, 2, 3}, Protocol: 6, Port: 8080, SchedName: "wrr",
		// HASHED is set by the kernel on every service; PERSISTENT carries the timeout.
		Flags: FlagHashed | FlagPersistent, Timeout: 600, Netmask: nativeMask("255.255.0.0"),
		AddressFamily: syscall.AF_INET,
		Stats:         ipvs.SvcStats{Connections: 5, PacketsIn: 6, PacketsOut: 7, BytesIn: 8, BytesOut: 9, CPS: 1},
	}
	dests := []*ipvs.Destination{
		{Address: net.IP{10, 1, 2, 4}, Port: 8080, Weight: 3, ConnectionFlags: ipvs.ConnectionFlagDirectRoute,
			UpperThreshold: 100, LowerThreshold: 10, ActiveConnections: 2, InactiveConnections: 4,
			AddressFamily: syscall.AF_INET, Stats: ipvs.DstStats{Connections: 1}},
		{Address: net.IP{10, 1, 2, 5}, Port: 80, Weight: 1, ConnectionFlags: ipvs.ConnectionFlagMasq | 0x100,
			AddressFamily: syscall.AF_INET},
		{Address: net.IP{10, 1, 2, 6}, Port: 8080, Weight: 0, ConnectionFlags: ipvs.ConnectionFlagTunnel,
			AddressFamily: syscall.AF_INET},
	}
	got := FromIPVS(in, dests)
	want := Service{
		Key:       Key{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("10.1.2.3"), Port: 8080},
		Scheduler: "wrr", Persistence: 600, NetmaskBits: 16,
		Stats: Stats{Conns: 5, InPkts: 6, OutPkts: 7, InBytes: 8, OutBytes: 9, CPS: 1},
		Destinations: []Destination{
			{Addr: netip.MustParseAddr("10.1.2.4"), Port: 8080, Weight: 3, Forward: DR, UpperThreshold: 100,
				LowerThreshold: 10, ActiveConns: 2, InactiveConns: 4, Stats: Stats{Conns: 1}},
			{Addr: netip.MustParseAddr("10.1.2.5"), Port: 80, Weight: 1, Forward: NAT},
			{Addr: netip.MustParseAddr("10.1.2.6"), Port: 8080, Weight: 0, Forward: TUN},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromIPVS:\n got %+v\nwant %+v", got, want)
	}

	// Without the persistent flag, the timeout and netmask the kernel keeps are not persistence.
	in.Flags = FlagHashed
	if got := FromIPVS(in, nil); got.Persistence != 0 || got.NetmaskBits != 0 {
		t.Errorf("non-persistent service read as persistence %d /%d", got.Persistence, got.NetmaskBits)
	}
}

func TestToIPVSDest(t *testing.T) {
	for _, tc := range []struct {
		in   Destination
		want ipvs.Destination
	}{
		{Destination{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 2, Forward: DR, UpperThreshold: 9, LowerThreshold: 3},
			ipvs.Destination{Address: net.IP{10, 0, 0, 2}, Port: 80, Weight: 2, ConnectionFlags: 3, AddressFamily: syscall.AF_INET, UpperThreshold: 9, LowerThreshold: 3}},
		{Destination{Addr: netip.MustParseAddr("::ffff:10.0.0.3"), Port: 8080, Weight: 1, Forward: NAT},
			ipvs.Destination{Address: net.IP{10, 0, 0, 3}, Port: 8080, Weight: 1, ConnectionFlags: 0, AddressFamily: syscall.AF_INET}},
		{Destination{Addr: netip.MustParseAddr("2001:db8::2"), Port: 443, Weight: 5, Forward: TUN},
			ipvs.Destination{Address: net.ParseIP("2001:db8::2"), Port: 443, Weight: 5, ConnectionFlags: 2, AddressFamily: syscall.AF_INET6}},
	} {
		got := ToIPVSDest(&tc.in)
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("ToIPVSDest(%v):\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
}

func TestNetmask(t *testing.T) {
	for bits := 0; bits <= 32; bits++ {
		if got := netmaskFromKernel(IPv4, netmaskToKernel(IPv4, uint8(bits))); got != uint8(bits) {
			t.Errorf("IPv4 netmask /%d round trip gave /%d", bits, got)
		}
	}
	if got := maskText(IPv4, 24); got != "255.255.255.0" {
		t.Errorf("maskText /24 = %s", got)
	}
}
