package e2e

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/ipvs"
)

// formatService renders one IPVS service and its destinations in ipvsadm -Ln's words,
// without connection counters, destinations sorted: "TCP 10.0.0.1:80 rr | -> 10.0.0.2:80
// Route 1 | ...". Tests compare whole tables as sorted lists of these strings.
func formatService(s *ipvs.Service, dests []*ipvs.Destination) string {
	var head string
	if s.FWMark != 0 {
		head = fmt.Sprintf("FWM %d %s", s.FWMark, s.SchedName)
	} else {
		proto := map[uint16]string{syscall.IPPROTO_TCP: "TCP", syscall.IPPROTO_UDP: "UDP", syscall.IPPROTO_SCTP: "SCTP"}[s.Protocol]
		if proto == "" {
			proto = "proto" + strconv.Itoa(int(s.Protocol))
		}
		head = fmt.Sprintf("%s %s %s", proto, net.JoinHostPort(s.Address.String(), strconv.Itoa(int(s.Port))), s.SchedName)
	}
	const persistent = 0x1 // IP_VS_SVC_F_PERSISTENT
	if s.Flags&persistent != 0 {
		head += fmt.Sprintf(" persistent %d", s.Timeout)
	}
	var ds []string
	for _, d := range dests {
		fwd := map[uint32]string{ipvs.ConnFwdMasq: "Masq", ipvs.ConnFwdLocalNode: "Local", ipvs.ConnFwdTunnel: "Tunnel", ipvs.ConnFwdDirectRoute: "Route"}[d.ConnectionFlags&ipvs.ConnFwdMask]
		addr := net.JoinHostPort(d.Address.String(), strconv.Itoa(int(d.Port)))
		if s.FWMark != 0 && fwd != "Masq" {
			// DR and TUN never rewrite the port; ipvsadm and daemons disagree on what they
			// store for a fwmark service, so it is not compared.
			addr = d.Address.String()
		}
		ds = append(ds, fmt.Sprintf("-> %s %s %d", addr, fwd, d.Weight))
	}
	sort.Strings(ds)
	return strings.Join(append([]string{head}, ds...), " | ")
}
