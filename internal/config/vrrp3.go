package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// VRRPv3 and IPv6 instances (RFC 5798): vrrp_version, the family of an instance and the
// addresses it advertises, virtual_ipaddress_excluded.

// vrrpVersion reads vrrp_version (2 or 3); def when absent.
func (s *sink) vrrpVersion(b *rawBlock, def int) int {
	v, _, ok := s.integer(b, "vrrp_version", 2, 3, int64(def))
	if !ok {
		return def
	}
	return int(v)
}

// advertIntAttr is the name duration reads advert_int under: VRRPv3 has its own range.
func advertIntAttr(version int) string {
	if version == 3 {
		return advertIntV3
	}
	return "advert_int"
}

// addVIPs parses the addresses of list attribute name into in.VIPs (marked excluded when
// excluded) and returns how many the list has.
func (s *sink) addVIPs(b *rawBlock, name string, in *VRRPInstance, vipOwner map[netip.Addr]seenAt, excluded bool) int {
	vips, _ := s.strList(b, name)
	for _, it := range vips {
		vip, err := parseVIP(it.val, in.Interface)
		if err != nil {
			s.errAt(it.rng, "%s %q: %v", name, it.val, err)
			continue
		}
		a := vip.Prefix.Addr()
		if first, dup := vipOwner[a]; dup {
			s.errAt(it.rng, "duplicate VIP %s: already in %s (at %s)", a, first.what, posOf(first.rng))
			continue
		}
		vipOwner[a] = seenAt{fmt.Sprintf("vrrp_instance %q", in.Name), it.rng}
		vip.Excluded = excluded
		in.VIPs = append(in.VIPs, vip)
	}
	return len(vips)
}

// instanceFamily sets in.IPv6 from the advertised VIPs (the first one decides) and
// reports the others that are not of that family: one family per instance, as in
// keepalived; addresses of the other family go in virtual_ipaddress_excluded. IPv6 needs
// VRRPv3.
func (s *sink) instanceFamily(b *rawBlock, in *VRRPInstance) {
	var first netip.Addr
	for _, v := range in.VIPs {
		if !v.Excluded {
			first = v.Prefix.Addr()
			break
		}
	}
	in.IPv6 = first.Is6()
	a := b.Attrs["virtual_ipaddress"]
	if a == nil {
		return
	}
	if in.IPv6 && in.VRRPVersion != 3 {
		s.errAt(a.Range, "virtual_ipaddress %s is IPv6, which needs vrrp_version = 3 (VRRPv2 runs over IPv4); "+
			"or move it to virtual_ipaddress_excluded (not advertised)", first)
		return
	}
	var other []string
	for _, v := range in.VIPs {
		if !v.Excluded && v.Prefix.Addr().Is6() != in.IPv6 {
			other = append(other, v.Prefix.Addr().String())
		}
	}
	if len(other) > 0 {
		s.errAt(a.Range, "virtual_ipaddress mixes IPv4 and IPv6 (%s is %s, but %s not): an instance advertises one "+
			"family; move the others to virtual_ipaddress_excluded (not advertised, either family)",
			first, familyName(in.IPv6), strings.Join(other, ", "))
	}
}

func familyName(ipv6 bool) string {
	if ipv6 {
		return "IPv6"
	}
	return "IPv4"
}

// familyRule says what addresses a unicast setting of the instance needs.
func familyRule(in VRRPInstance) string {
	if in.IPv6 {
		return "IPv6 (the instance's VIPs are IPv6)"
	}
	if in.VRRPVersion == 3 {
		return "IPv4 (the instance's VIPs are IPv4)"
	}
	return "IPv4 (VRRPv2 runs over IPv4)"
}
