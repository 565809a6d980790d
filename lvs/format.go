package lvs

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Text formats of ipvsadm 1.31: `ipvsadm -Ln [--stats|--rate] [--exact]` (WriteList) and
// `ipvsadm-save -n` (WriteSave). Column widths, sort order and flag spelling follow
// ipvsadm.c (print_title, print_service_entry, print_largenum) and libipvs's
// ipvs_cmp_services / ipvs_cmp_dests.

// ListOptions selects the ipvsadm -L variant.
type ListOptions struct {
	Stats bool // --stats: Conns InPkts OutPkts InBytes OutBytes
	Rate  bool // --rate: CPS InPPS OutPPS InBPS OutBPS
	Exact bool // --exact: no K/M/G/T abbreviation of large numbers
	// TableSize is the connection hash table size in the first line (0: 4096, the
	// kernel's default of CONFIG_IP_VS_TAB_BITS=12).
	TableSize int
}

// WriteList writes services in `ipvsadm -Ln` layout, sorted as ipvsadm sorts them.
func WriteList(w io.Writer, services []Service, o ListOptions) error {
	bw := bufio.NewWriter(w)
	size := o.TableSize
	if size == 0 {
		size = 4096
	}
	fmt.Fprintf(bw, "IP Virtual Server version 1.2.1 (size=%d)\n", size)
	switch {
	case o.Stats:
		fmt.Fprintf(bw, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	case o.Rate:
		fmt.Fprintf(bw, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	default:
		bw.WriteString("Prot LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	}
	for _, s := range sortedServices(services) {
		k := s.Key.Normalize()
		var name string
		if k.FWMark != 0 {
			name = "FWM  " + strconv.FormatUint(uint64(k.FWMark), 10)
			if k.Family == IPv6 {
				name += " IPv6"
			}
		} else {
			name = fmt.Sprintf("%-4s %s", protoName(k.Protocol), netip.AddrPortFrom(k.Addr, k.Port))
			if k.Family == IPv4 && len(name) > 33 {
				name = name[:33]
			}
		}
		switch {
		case o.Stats:
			fmt.Fprintf(bw, "%-33s", name)
			largenums(bw, o.Exact, s.Stats.Conns, s.Stats.InPkts, s.Stats.OutPkts, s.Stats.InBytes, s.Stats.OutBytes)
		case o.Rate:
			fmt.Fprintf(bw, "%-33s", name)
			largenums(bw, o.Exact, s.Stats.CPS, s.Stats.InPPS, s.Stats.OutPPS, s.Stats.InBPS, s.Stats.OutBPS)
		default:
			bw.WriteString(name + " " + s.scheduler())
			if f := schedFlagNames(&s); f != "" {
				bw.WriteString(" (" + f + ")")
			}
			if s.Persistence > 0 {
				fmt.Fprintf(bw, " persistent %d", s.Persistence)
				if m := s.netmaskBits(); m != fullBits(k.Family) {
					bw.WriteString(" mask " + maskText(k.Family, m))
				}
				if s.PEName != "" {
					bw.WriteString(" pe " + s.PEName)
				}
			}
			if s.Flags&FlagOnePacket != 0 {
				bw.WriteString(" ops")
			}
		}
		bw.WriteByte('\n')
		for _, d := range sortedDests(s.Destinations) {
			dname := netip.AddrPortFrom(d.Addr.Unmap(), d.Port).String()
			if d.Addr.Unmap().Is4() && len(dname) > 28 {
				dname = dname[:28]
			}
			switch {
			case o.Stats:
				fmt.Fprintf(bw, "  -> %-28s", dname)
				largenums(bw, o.Exact, d.Stats.Conns, d.Stats.InPkts, d.Stats.OutPkts, d.Stats.InBytes, d.Stats.OutBytes)
				bw.WriteByte('\n')
			case o.Rate:
				fmt.Fprintf(bw, "  -> %-28s %8d %8d %8d", dname, d.Stats.CPS, d.Stats.InPPS, d.Stats.OutPPS)
				largenums(bw, o.Exact, d.Stats.InBPS, d.Stats.OutBPS)
				bw.WriteByte('\n')
			default:
				fmt.Fprintf(bw, "  -> %-28s %-7s %-6d %-10d %-10d\n",
					dname, fwdName(d.Forward), d.Weight, d.ActiveConns, d.InactiveConns)
			}
		}
	}
	return bw.Flush()
}

// WriteSave writes services in `ipvsadm-save -n` format, which `ipvsadm-restore` reads.
// Unlike ipvsadm, it also writes non-zero thresholds (-x, -y), which ipvsadm -R accepts.
func WriteSave(w io.Writer, services []Service) error {
	bw := bufio.NewWriter(w)
	for _, s := range sortedServices(services) {
		k := s.Key.Normalize()
		var name string
		if k.FWMark != 0 {
			name = "-f " + strconv.FormatUint(uint64(k.FWMark), 10)
			if k.Family == IPv6 {
				name += " -6"
			}
		} else {
			name = protoOption(k.Protocol) + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
		}
		bw.WriteString("-A " + name + " -s " + s.scheduler())
		if s.Persistence > 0 {
			fmt.Fprintf(bw, " -p %d", s.Persistence)
			if m := s.netmaskBits(); m != fullBits(k.Family) {
				bw.WriteString(" -M " + maskText(k.Family, m))
			}
		}
		if s.PEName != "" {
			bw.WriteString(" --pe " + s.PEName)
		}
		if s.Flags&FlagOnePacket != 0 {
			bw.WriteString(" -o")
		}
		if s.Flags&(FlagSched1|FlagSched2|FlagSched3) != 0 {
			bw.WriteString(" -b " + schedFlagNames(&s))
		}
		bw.WriteByte('\n')
		for _, d := range sortedDests(s.Destinations) {
			fmt.Fprintf(bw, "-a %s -r %s %s -w %d", name, netip.AddrPortFrom(d.Addr.Unmap(), d.Port), fwdSwitch(d.Forward), d.Weight)
			if d.Forward == TUN {
				bw.WriteString(" --tun-type ipip")
			}
			if d.UpperThreshold != 0 {
				fmt.Fprintf(bw, " -x %d", d.UpperThreshold)
			}
			if d.LowerThreshold != 0 {
				fmt.Fprintf(bw, " -y %d", d.LowerThreshold)
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

func protoName(p Protocol) string {
	switch p {
	case TCP, UDP, SCTP:
		return p.String()
	}
	return "?"
}

func protoOption(p Protocol) string {
	switch p {
	case TCP:
		return "-t"
	case UDP:
		return "-u"
	case SCTP:
		return "--sctp-service"
	}
	return "--xxx-service"
}

func fwdName(f Forward) string {
	switch f {
	case NAT:
		return "Masq"
	case Local:
		return "Local"
	case TUN:
		return "Tunnel"
	case DR:
		return "Route"
	}
	return "(null)"
}

func fwdSwitch(f Forward) string {
	switch f {
	case NAT:
		return "-m"
	case TUN:
		return "-i"
	}
	return "-g" // DR and Local
}

// schedFlagNames spells the scheduler flags as ipvsadm's print_sched_flags does.
func schedFlagNames(s *Service) string {
	var names []string
	switch s.scheduler() {
	case "sh", "mh":
		p := s.scheduler()
		if s.Flags&FlagSched1 != 0 {
			names = append(names, p+"-fallback")
		}
		if s.Flags&FlagSched2 != 0 {
			names = append(names, p+"-port")
		}
	default:
		for i, f := range []uint32{FlagSched1, FlagSched2, FlagSched3} {
			if s.Flags&f != 0 {
				names = append(names, "flag-"+strconv.Itoa(i+1))
			}
		}
	}
	return strings.Join(names, ",")
}

// maskText is the netmask as ipvsadm prints it: dotted for IPv4, a prefix length for IPv6.
func maskText(f Family, bits uint8) string {
	if f == IPv6 {
		return strconv.Itoa(int(bits))
	}
	m := ^uint32(0) << (32 - uint32(bits))
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// largenums prints counters as print_largenum: 9 columns, abbreviated above 10^8.
func largenums(bw *bufio.Writer, exact bool, vs ...uint64) {
	for _, i := range vs {
		if exact {
			s := strconv.FormatUint(i, 10)
			width := len(s) + 1
			if len(s) <= 8 {
				width = 9
			}
			fmt.Fprintf(bw, "%*d", width, i)
			continue
		}
		switch {
		case i < 100000000:
			fmt.Fprintf(bw, "%9d", i)
		case i < 1000000000:
			fmt.Fprintf(bw, "%8dK", i/1000)
		case i < 100000000000:
			fmt.Fprintf(bw, "%8dM", i/1000000)
		case i < 100000000000000:
			fmt.Fprintf(bw, "%8dG", i/1000000000)
		default:
			fmt.Fprintf(bw, "%8dT", i/1000000000000)
		}
	}
}

// cmp32 is C's `int r = a - b` on two unsigned 32-bit values, as libipvs compares.
func cmp32(a, b uint32) int { return int(int32(a - b)) }

func addrWords(a netip.Addr) []uint32 {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return []uint32{uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])}
	}
	b := a.As16()
	w := make([]uint32, 4)
	for i := range w {
		w[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
	}
	return w
}

func cmpAddr(a, b netip.Addr) int {
	wa, wb := addrWords(a), addrWords(b)
	for i := 0; i < len(wa) && i < len(wb); i++ {
		if r := cmp32(wa[i], wb[i]); r != 0 {
			return r
		}
	}
	return len(wa) - len(wb)
}

// sortedServices orders as ipvs_cmp_services: fwmark, family, protocol, address, port.
func sortedServices(in []Service) []Service {
	out := slices.Clone(in)
	afNum := func(f Family) int {
		if f == IPv6 {
			return 10
		}
		return 2
	}
	slices.SortStableFunc(out, func(x, y Service) int {
		a, b := x.Key.Normalize(), y.Key.Normalize()
		if r := cmp32(a.FWMark, b.FWMark); r != 0 {
			return r
		}
		if r := afNum(a.Family) - afNum(b.Family); r != 0 {
			return r
		}
		if r := int(a.Protocol) - int(b.Protocol); r != 0 {
			return r
		}
		if r := cmpAddr(a.Addr, b.Addr); r != 0 {
			return r
		}
		return int(a.Port) - int(b.Port)
	})
	return out
}

// sortedDests orders as ipvs_cmp_dests: address, port.
func sortedDests(in []Destination) []Destination {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(x, y Destination) int {
		if r := cmpAddr(x.Addr, y.Addr); r != 0 {
			return r
		}
		return int(x.Port) - int(y.Port)
	})
	return out
}
