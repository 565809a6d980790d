package lvs

import "net/netip"

// SyntheticTable returns a table of services TCP virtual services (10.100.x.y:80, wlc)
// sharing dests DR real servers (10.200.x.y:80 onwards, weight 1) as evenly as possible:
// for benchmarks and tests at scale. SyntheticTable(2277, 37205) is keepalived's largest
// published configuration size.
func SyntheticTable(services, dests int) Table {
	t := make(Table, services)
	n := 0
	for i := range t {
		k := dests / services
		if i < dests%services {
			k++
		}
		s := Service{Key: AddrKey(TCP, netip.AddrFrom4([4]byte{10, 100 + byte(i>>16), byte(i >> 8), byte(i)}), 80), Scheduler: "wlc"}
		s.Destinations = make([]Destination, k)
		for j := range s.Destinations {
			s.Destinations[j] = Destination{
				Addr: netip.AddrFrom4([4]byte{10, 200 + byte(n>>16), byte(n >> 8), byte(n)}), Port: 80, Weight: 1, Forward: DR}
			n++
		}
		t[i] = s
	}
	return t
}
