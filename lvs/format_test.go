package lvs

import (
	"net/netip"
	"strings"
	"testing"
)

// Expected texts are ipvsadm 1.31's printf formats applied by hand to formatTable (note
// the trailing spaces of %-10u); the vmtest suite also compares with the real ipvsadm.

// formatTable is deliberately out of ipvsadm's order, to test the sort.
func formatTable() []Service {
	a := netip.MustParseAddr
	return []Service{
		{Key: FWMarkKey(IPv6, 4), Scheduler: "wrr", Flags: FlagSched1},
		{Key: FWMarkKey(IPv4, 3), Scheduler: "rr", Destinations: []Destination{{Addr: a("10.0.0.2"), Weight: 1, Forward: DR}}},
		{Key: AddrKey(TCP, a("2001:db8::1"), 443), Scheduler: "sh", Flags: FlagSched1 | FlagSched2 | FlagOnePacket,
			Persistence: 60, NetmaskBits: 64,
			Destinations: []Destination{{Addr: a("2001:db8::2"), Port: 443, Weight: 1, Forward: TUN}}},
		{Key: AddrKey(SCTP, a("10.0.0.1"), 9), Scheduler: "rr"},
		{Key: AddrKey(UDP, a("10.0.0.1"), 53), Persistence: 300, NetmaskBits: 24,
			Destinations: []Destination{{Addr: a("10.0.0.9"), Port: 53, Weight: 1, Forward: NAT, UpperThreshold: 100, LowerThreshold: 10}}},
		{Key: AddrKey(TCP, a("10.0.0.1"), 80), Scheduler: "rr",
			Stats: Stats{Conns: 12, InPkts: 340, InBytes: 123456789, OutBytes: 99999999999, CPS: 1, InPPS: 20, InBPS: 3000},
			Destinations: []Destination{
				{Addr: a("10.0.0.3"), Port: 80, Weight: 1, Forward: DR, ActiveConns: 2, InactiveConns: 5,
					Stats: Stats{Conns: 12, InPkts: 340, InBytes: 123456789, OutBytes: 100000000000000, CPS: 1, InPPS: 20, InBPS: 3000}},
				{Addr: a("10.0.0.2"), Port: 80, Weight: 3, Forward: DR},
			}},
	}
}

const wantList = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 rr
  -> 10.0.0.2:80                  Route   3      0          0         
  -> 10.0.0.3:80                  Route   1      2          5         
UDP  10.0.0.1:53 wlc persistent 300 mask 255.255.255.0
  -> 10.0.0.9:53                  Masq    1      0          0         
SCTP 10.0.0.1:9 rr
TCP  [2001:db8::1]:443 sh (sh-fallback,sh-port) persistent 60 mask 64 ops
  -> [2001:db8::2]:443            Tunnel  1      0          0         
FWM  3 rr
  -> 10.0.0.2:0                   Route   1      0          0         
FWM  4 IPv6 wrr (flag-1)
`

const wantSave = `-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 3
-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1
-A -u 10.0.0.1:53 -s wlc -p 300 -M 255.255.255.0
-a -u 10.0.0.1:53 -r 10.0.0.9:53 -m -w 1 -x 100 -y 10
-A --sctp-service 10.0.0.1:9 -s rr
-A -t [2001:db8::1]:443 -s sh -p 60 -M 64 -o -b sh-fallback,sh-port
-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -i -w 1 --tun-type ipip
-A -f 3 -s rr
-a -f 3 -r 10.0.0.2:0 -g -w 1
-A -f 4 -6 -s wrr -b flag-1
`

func TestWriteList(t *testing.T) {
	all := formatTable()
	for _, tc := range []struct {
		name string
		in   []Service
		o    ListOptions
		want string
	}{
		{"plain", all, ListOptions{}, wantList},
		{"stats", all[5:], ListOptions{Stats: true}, `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.0.1:80                        12      340        0  123456K   99999M
  -> 10.0.0.2:80                         0        0        0        0        0
  -> 10.0.0.3:80                        12      340        0  123456K     100T
`},
		{"rate", all[5:], ListOptions{Rate: true}, `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.0.0.1:80                         1       20        0     3000        0
  -> 10.0.0.2:80                         0        0        0        0        0
  -> 10.0.0.3:80                         1       20        0     3000        0
`},
		{"empty", nil, ListOptions{TableSize: 1048576}, "IP Virtual Server version 1.2.1 (size=1048576)\n" +
			"Prot LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteList(&b, tc.in, tc.o); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestWriteSave(t *testing.T) {
	var b strings.Builder
	if err := WriteSave(&b, formatTable()); err != nil {
		t.Fatal(err)
	}
	if b.String() != wantSave {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), wantSave)
	}
}

func TestLargenumExact(t *testing.T) {
	var b strings.Builder
	if err := WriteList(&b, []Service{{Key: AddrKey(TCP, netip.MustParseAddr("10.0.0.1"), 80), Stats: Stats{Conns: 123456789012}}}, ListOptions{Stats: true, Exact: true}); err != nil {
		t.Fatal(err)
	}
	want := "TCP  10.0.0.1:80                  123456789012        0        0        0        0\n"
	if got := strings.SplitAfterN(b.String(), "\n", 4)[3]; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// ipvsadm compares addresses as C ints: beyond 2^31 apart the order wraps. Within a range
// (the usual case) it is the numeric order.
func TestSortOrder(t *testing.T) {
	var svcs []Service
	for _, s := range []string{"10.0.0.20", "10.0.0.3", "10.0.1.1"} {
		svcs = append(svcs, Service{Key: AddrKey(TCP, netip.MustParseAddr(s), 80)})
	}
	var got []string
	for _, s := range sortedServices(svcs) {
		got = append(got, s.Addr.String())
	}
	if strings.Join(got, " ") != "10.0.0.3 10.0.0.20 10.0.1.1" {
		t.Errorf("order %v", got)
	}
}
