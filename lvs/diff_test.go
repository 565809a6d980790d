package lvs

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
)

var (
	vip  = netip.MustParseAddr("10.0.0.1")
	rip2 = netip.MustParseAddr("10.0.0.2")
	rip3 = netip.MustParseAddr("10.0.0.3")
)

func web(dests ...Destination) Service {
	return Service{Key: AddrKey(TCP, vip, 80), Scheduler: "rr", Destinations: dests}
}

func rs(a netip.Addr, w int) Destination {
	return Destination{Addr: a, Port: 80, Weight: w, Forward: DR}
}

func opStrings(ops []Op) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.String()
	}
	return out
}

func TestDiff(t *testing.T) {
	dns := Service{Key: AddrKey(UDP, vip, 53), Scheduler: "wlc", Persistence: 300}
	for _, tc := range []struct {
		name             string
		desired, current Table
		want             []string
	}{
		{"empty", nil, nil, []string{}},
		{"identical is no-op", Table{web(rs(rip2, 1), rs(rip3, 1))}, Table{web(rs(rip3, 1), rs(rip2, 1))}, []string{}},
		{"add from empty", Table{web(rs(rip2, 1))}, nil, []string{
			"add service 10.0.0.1:80 TCP scheduler rr",
			"add real server 10.0.0.1:80 TCP -> 10.0.0.2:80 DR weight 1",
		}},
		{"weight change is an edit", Table{web(rs(rip2, 3))}, Table{web(rs(rip2, 1))}, []string{
			"edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 1 -> 3",
		}},
		{"forward and thresholds are edits",
			Table{web(Destination{Addr: rip2, Port: 80, Weight: 1, Forward: NAT, UpperThreshold: 10, LowerThreshold: 5})},
			Table{web(rs(rip2, 1))}, []string{
				"edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: forward DR -> NAT, upper threshold 0 -> 10, lower threshold 0 -> 5",
			}},
		{"counters are not differences", Table{web(rs(rip2, 1))},
			Table{web(Destination{Addr: rip2, Port: 80, Weight: 1, Forward: DR, ActiveConns: 7, Stats: Stats{Conns: 9}})},
			[]string{}},
		{"scheduler, persistence, netmask, flags are service edits",
			Table{{Key: AddrKey(TCP, vip, 80), Scheduler: "sh", Flags: FlagSched1, Persistence: 600, NetmaskBits: 24}},
			Table{{Key: AddrKey(TCP, vip, 80), Scheduler: "rr"}}, []string{
				"edit service 10.0.0.1:80 TCP: scheduler rr -> sh, flags 0x0 -> 0x8, persistence 0 -> 600, netmask /32 -> /24",
			}},
		{"empty scheduler means wlc", Table{{Key: AddrKey(TCP, vip, 80)}}, Table{{Key: AddrKey(TCP, vip, 80), Scheduler: "wlc"}}, []string{}},
		{"netmask ignored without persistence", Table{{Key: AddrKey(TCP, vip, 80), Scheduler: "rr", NetmaskBits: 24}},
			Table{{Key: AddrKey(TCP, vip, 80), Scheduler: "rr"}}, []string{}},
		{"delete, edit, add destinations in that order",
			Table{web(rs(rip3, 1), rs(rip2, 2))},
			Table{web(rs(rip2, 1), rs(netip.MustParseAddr("10.0.0.4"), 1))}, []string{
				"delete real server 10.0.0.1:80 TCP -> 10.0.0.4:80",
				"edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 1 -> 2",
				"add real server 10.0.0.1:80 TCP -> 10.0.0.3:80 DR weight 1",
			}},
		{"foreign services are not deleted by Diff", Table{web()}, Table{web(), dns}, []string{}},
		{"protocol is part of the key", Table{{Key: AddrKey(UDP, vip, 80), Scheduler: "rr"}}, Table{web()}, []string{
			"add service 10.0.0.1:80 UDP scheduler rr",
		}},
		{"fwmark and IPv6 keys", Table{{Key: FWMarkKey(IPv6, 3), Scheduler: "rr"}, {Key: AddrKey(TCP, netip.MustParseAddr("2001:db8::1"), 443), Scheduler: "rr"}},
			Table{{Key: FWMarkKey(IPv4, 3), Scheduler: "rr"}}, []string{
				"add service fwmark 3 IPv6 scheduler rr",
				"add service [2001:db8::1]:443 TCP scheduler rr",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := opStrings(Diff(tc.desired, tc.current))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Diff:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDiffOwnedDeletesOnlyOwned(t *testing.T) {
	foreign := Service{Key: AddrKey(TCP, netip.MustParseAddr("192.0.2.1"), 80), Scheduler: "rr"}
	old := Service{Key: AddrKey(TCP, vip, 443), Scheduler: "rr"}
	ops := DiffOwned(Table{web()}, Table{foreign, old, web()}, map[Key]bool{old.Key: true, web().Key: true})
	want := []string{"delete service 10.0.0.1:443 TCP"}
	if got := opStrings(ops); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// bigDests forces the map-based path of diffDests.
func TestDiffLargeService(t *testing.T) {
	var want, cur []Destination
	for i := 0; i < 40; i++ {
		a := netip.AddrFrom4([4]byte{10, 1, 0, byte(i)})
		want = append(want, rs(a, 1))
		if i != 5 {
			w := 1
			if i == 7 {
				w = 2
			}
			cur = append(cur, rs(a, w))
		}
	}
	cur = append(cur, rs(netip.MustParseAddr("10.2.0.1"), 1))
	got := opStrings(Diff(Table{web(want...)}, Table{web(cur...)}))
	exp := []string{
		"delete real server 10.0.0.1:80 TCP -> 10.2.0.1:80",
		"edit real server 10.0.0.1:80 TCP -> 10.1.0.7:80: weight 2 -> 1",
		"add real server 10.0.0.1:80 TCP -> 10.1.0.5:80 DR weight 1",
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("got %q\nwant %q", got, exp)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		t    Table
		want string
	}{
		{Table{web(), web()}, "virtual service 10.0.0.1:80 TCP listed twice"},
		{Table{web(rs(rip2, 1), rs(rip2, 2))}, "virtual service 10.0.0.1:80 TCP: real server 10.0.0.2:80 listed twice"},
		{Table{web(rs(netip.MustParseAddr("2001:db8::2"), 1))}, "virtual service 10.0.0.1:80 TCP: real server [2001:db8::2]:80 of another address family"},
		{Table{web(rs(rip2, 70000))}, "virtual service 10.0.0.1:80 TCP: real server 10.0.0.2:80: weight 70000 out of range 0-65535"},
		{Table{{Key: AddrKey(TCP, vip, 80), Flags: FlagPersistent}}, "virtual service 10.0.0.1:80 TCP: flags 0x1 not settable (persistence is Persistence)"},
		{Table{{Scheduler: "rr"}}, "virtual service 0: no address and no fwmark"},
		{Table{web(Destination{Addr: rip2, Port: 80, Weight: 1, LowerThreshold: 5})}, "virtual service 10.0.0.1:80 TCP: real server 10.0.0.2:80: lower threshold 5 above upper threshold 0"},
		{Table{web(rs(rip2, 1)), {Key: FWMarkKey(IPv4, 1)}}, ""},
	} {
		err := tc.t.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Validate = %q, want %q", got, tc.want)
		}
	}
}

// bigTable is keepalived's largest published configuration size: 2,277 virtual servers
// with 37,205 real servers in total.
func bigTable() Table { return SyntheticTable(2277, 37205) }

func TestBigTableShape(t *testing.T) {
	tb := bigTable()
	n := 0
	for _, s := range tb {
		n += len(s.Destinations)
	}
	if len(tb) != 2277 || n != 37205 {
		t.Fatalf("big table has %d services, %d real servers", len(tb), n)
	}
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	if ops := Diff(tb, tb); len(ops) != 0 {
		t.Fatalf("Diff of the big table against itself: %d ops", len(ops))
	}
}

func BenchmarkDiffIdentical(b *testing.B) {
	tb := bigTable()
	cur := tb.Clone()
	b.ReportAllocs()
	for b.Loop() {
		if ops := Diff(tb, cur); len(ops) != 0 {
			b.Fatal(len(ops))
		}
	}
}

func BenchmarkDiffChanged(b *testing.B) {
	tb := bigTable()
	cur := tb.Clone()
	// 1% of real servers reweighted, 100 services gone, one real server missing per 10 services.
	for i := range cur {
		for j := range cur[i].Destinations {
			if (i+j)%100 == 0 {
				cur[i].Destinations[j].Weight = 5
			}
		}
		if i%10 == 0 {
			cur[i].Destinations = cur[i].Destinations[1:]
		}
	}
	cur = cur[100:]
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(Diff(tb, cur))
	}
	b.ReportMetric(float64(n), "ops")
}

func ExampleOp_String() {
	ops := Diff(Table{web(rs(rip2, 3))}, Table{web(rs(rip2, 1))})
	fmt.Println(ops[0])
	// Output: edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 1 -> 3
}

func BenchmarkValidate(b *testing.B) {
	tb := bigTable()
	b.ReportAllocs()
	for b.Loop() {
		if err := tb.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
