package daemon

import (
	"net/netip"
	"testing"

	"github.com/lvsd/lvsd/lvs"
)

func TestAttachKernelCounters(t *testing.T) {
	vss := []VirtualServerStatus{
		{Address: "192.0.2.10", Port: 80, Protocol: "TCP", RealServers: []RealServerStatus{
			{Address: "198.51.100.1:8080"}, {Address: "198.51.100.2:8080"},
		}},
		{FWMark: 7, Protocol: "TCP", RealServers: []RealServerStatus{{Address: "198.51.100.3:80"}}},
		{Address: "192.0.2.10", Port: 80, Protocol: "UDP", RealServers: []RealServerStatus{{Address: "198.51.100.1:8080"}}},
	}
	table := lvs.Table{
		{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddr("192.0.2.10"), 80), Destinations: []lvs.Destination{
			{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080, ActiveConns: 4, InactiveConns: 2,
				Stats: lvs.Stats{Conns: 10, InPkts: 20, OutPkts: 30, InBytes: 40, OutBytes: 50}},
		}},
		{Key: lvs.FWMarkKey(lvs.IPv4, 7), Destinations: []lvs.Destination{
			{Addr: netip.MustParseAddr("198.51.100.3"), Port: 80, ActiveConns: 1},
		}},
	}
	attachKernelCounters(vss, table)
	want := KernelCounters{ActiveConns: 4, InactiveConns: 2, Conns: 10, InPackets: 20, OutPackets: 30, InBytes: 40, OutBytes: 50}
	if k := vss[0].RealServers[0].Kernel; k == nil || *k != want {
		t.Errorf("TCP 198.51.100.1: %+v, want %+v", k, want)
	}
	if k := vss[0].RealServers[1].Kernel; k != nil {
		t.Errorf("a real server not in the kernel has counters %+v", k)
	}
	if k := vss[1].RealServers[0].Kernel; k == nil || k.ActiveConns != 1 {
		t.Errorf("fwmark 7: %+v", k)
	}
	if k := vss[2].RealServers[0].Kernel; k != nil {
		t.Errorf("the UDP service is not in the kernel, yet %+v", k)
	}
}
