package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// A minimal codec for the kernel's IPVS generic netlink protocol
// (include/uapi/linux/ip_vs.h), used instead of moby/ipvs on the hot paths: it batches
// many requests into one sendmsg and parses dumps without per-attribute allocations.
// Pure: message bytes in and out, no sockets here.

// Generic netlink commands and attributes of the IPVS family.
const (
	ipvsGenlVersion = 1

	cmdNewService = 1
	cmdSetService = 2
	cmdDelService = 3
	cmdGetService = 4
	cmdNewDest    = 5
	cmdSetDest    = 6
	cmdDelDest    = 7
	cmdGetDest    = 8

	attrCmdService = 1
	attrCmdDest    = 2

	svcAF        = 1
	svcProtocol  = 2
	svcAddr      = 3
	svcPort      = 4
	svcFWMark    = 5
	svcSchedName = 6
	svcFlags     = 7
	svcTimeout   = 8
	svcNetmask   = 9
	svcStats     = 10
	svcPEName    = 11
	svcStats64   = 12

	dstAddr       = 1
	dstPort       = 2
	dstFwdMethod  = 3
	dstWeight     = 4
	dstUThresh    = 5
	dstLThresh    = 6
	dstActive     = 7
	dstInactive   = 8
	dstPersistent = 9
	dstStats      = 10
	dstAF         = 11
	dstStats64    = 12

	statsConns    = 1
	statsInPkts   = 2
	statsOutPkts  = 3
	statsInBytes  = 4
	statsOutBytes = 5
	statsCPS      = 6
	statsInPPS    = 7
	statsOutPPS   = 8
	statsInBPS    = 9
	statsOutBPS   = 10

	afInet  = 2
	afInet6 = 10

	// netlink header values (linux/netlink.h)
	nlmsgError    = 2
	nlmsgDone     = 3
	nlmFRequest   = 0x1
	nlmFMulti     = 0x2
	nlmFAck       = 0x4
	nlmFDump      = 0x300
	nlmsgHdrLen   = 16
	genlHdrLen    = 4
	nlaHdrLen     = 4
	nlaTypeMask   = 0x3fff
	nlmsgAlignTo  = 4
	fwdMethodMask = 0x7
)

var ne = binary.NativeEndian

func align4(n int) int { return (n + nlmsgAlignTo - 1) &^ (nlmsgAlignTo - 1) }

// msg builds netlink messages into a reusable buffer.
type msg struct{ b []byte }

// begin starts a message and returns its offset for end.
func (m *msg) begin(family uint16, flags uint16, seq uint32, cmd uint8) int {
	start := len(m.b)
	m.b = ne.AppendUint32(m.b, 0) // length, patched by end
	m.b = ne.AppendUint16(m.b, family)
	m.b = ne.AppendUint16(m.b, flags)
	m.b = ne.AppendUint32(m.b, seq)
	m.b = ne.AppendUint32(m.b, 0) // port id: the kernel fills it in
	m.b = append(m.b, cmd, ipvsGenlVersion, 0, 0)
	return start
}

func (m *msg) end(start int) { ne.PutUint32(m.b[start:], uint32(len(m.b)-start)) }

func (m *msg) attr(typ uint16, data []byte) {
	m.b = ne.AppendUint16(m.b, uint16(nlaHdrLen+len(data)))
	m.b = ne.AppendUint16(m.b, typ)
	m.b = append(m.b, data...)
	for len(m.b)%nlmsgAlignTo != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *msg) u16(typ, v uint16) {
	var b [2]byte
	ne.PutUint16(b[:], v)
	m.attr(typ, b[:])
}

func (m *msg) be16(typ, v uint16) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	m.attr(typ, b[:])
}

func (m *msg) u32(typ uint16, v uint32) {
	var b [4]byte
	ne.PutUint32(b[:], v)
	m.attr(typ, b[:])
}

func (m *msg) nestBegin(typ uint16) int {
	start := len(m.b)
	m.b = ne.AppendUint16(m.b, 0)
	m.b = ne.AppendUint16(m.b, typ)
	return start
}

func (m *msg) nestEnd(start int) { ne.PutUint16(m.b[start:], uint16(len(m.b)-start)) }

func addrBytes(a netip.Addr) []byte {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

// serviceAttrs appends the service attribute; full adds the settings (for add and edit).
func (m *msg) serviceAttrs(s *Service, full bool) {
	k := s.Key.Normalize()
	n := m.nestBegin(attrCmdService)
	if k.Family == IPv6 {
		m.u16(svcAF, afInet6)
	} else {
		m.u16(svcAF, afInet)
	}
	if k.FWMark != 0 {
		m.u32(svcFWMark, k.FWMark)
	} else {
		m.u16(svcProtocol, uint16(k.Protocol))
		m.attr(svcAddr, addrBytes(k.Addr))
		m.be16(svcPort, k.Port)
	}
	if full {
		sched := s.scheduler()
		m.attr(svcSchedName, append([]byte(sched), 0))
		if s.PEName != "" {
			m.attr(svcPEName, append([]byte(s.PEName), 0))
		}
		flags := s.Flags & userFlags
		timeout := uint32(0)
		bits := fullBits(k.Family)
		if s.Persistence > 0 {
			flags |= FlagPersistent
			timeout = s.Persistence
			bits = s.netmaskBits()
		}
		var fb [8]byte
		ne.PutUint32(fb[:], flags)
		ne.PutUint32(fb[4:], ^uint32(0)) // mask: set every flag as given
		m.attr(svcFlags, fb[:])
		m.u32(svcTimeout, timeout)
		m.attr(svcNetmask, netmaskAttr(k.Family, bits))
	}
	m.nestEnd(n)
}

// netmaskAttr is IPVS_SVC_ATTR_NETMASK's bytes: the kernel reads a __be32, which is the
// mask in network byte order for IPv4 and, for IPv6, a prefix length in host order.
func netmaskAttr(f Family, bits uint8) []byte {
	var b [4]byte
	if f == IPv6 {
		ne.PutUint32(b[:], uint32(bits))
	} else {
		binary.BigEndian.PutUint32(b[:], ^uint32(0)<<(32-uint32(bits)))
		if bits == 0 {
			b = [4]byte{}
		}
	}
	return b[:]
}

func netmaskBitsOfAttr(f Family, b []byte) uint8 {
	if len(b) < 4 {
		return fullBits(f)
	}
	if f == IPv6 {
		v := ne.Uint32(b)
		if v > 128 {
			return 128
		}
		return uint8(v)
	}
	m := binary.BigEndian.Uint32(b)
	n := uint8(0)
	for m&0x80000000 != 0 {
		n++
		m <<= 1
	}
	return n
}

func (m *msg) destAttrs(d *Destination, full bool) {
	a := d.Addr.Unmap()
	n := m.nestBegin(attrCmdDest)
	m.attr(dstAddr, addrBytes(a))
	m.be16(dstPort, d.Port)
	if a.Is4() {
		m.u16(dstAF, afInet)
	} else {
		m.u16(dstAF, afInet6)
	}
	if full {
		m.u32(dstFwdMethod, uint32(d.Forward)&fwdMethodMask)
		m.u32(dstWeight, uint32(d.Weight))
		m.u32(dstUThresh, d.UpperThreshold)
		m.u32(dstLThresh, d.LowerThreshold)
	}
	m.nestEnd(n)
}

var opCmd = [...]uint8{AddService: cmdNewService, EditService: cmdSetService, DelService: cmdDelService,
	AddDest: cmdNewDest, EditDest: cmdSetDest, DelDest: cmdDelDest}

// appendOp appends the request for op, asking for an acknowledgement.
func (m *msg) appendOp(family uint16, seq uint32, op *Op) error {
	if int(op.Kind) >= len(opCmd) || opCmd[op.Kind] == 0 {
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	start := m.begin(family, nlmFRequest|nlmFAck, seq, opCmd[op.Kind])
	switch op.Kind {
	case AddService, EditService:
		m.serviceAttrs(op.Service, true)
	case DelService:
		m.serviceAttrs(op.Service, false)
	case AddDest, EditDest:
		m.serviceAttrs(op.Service, false)
		m.destAttrs(op.Dest, true)
	case DelDest:
		m.serviceAttrs(op.Service, false)
		m.destAttrs(op.Dest, false)
	}
	m.end(start)
	return nil
}

// appendGetServices appends a dump request of every service.
func (m *msg) appendGetServices(family uint16, seq uint32) {
	m.end(m.begin(family, nlmFRequest|nlmFDump, seq, cmdGetService))
}

// appendGetDests appends a dump request of the destinations of one service.
func (m *msg) appendGetDests(family uint16, seq uint32, s *Service) {
	start := m.begin(family, nlmFRequest|nlmFDump, seq, cmdGetDest)
	m.serviceAttrs(s, false)
	m.end(start)
}

// nlMessage is one netlink message of a received buffer.
type nlMessage struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Data  []byte // after the netlink header
}

var errShortMessage = errors.New("truncated netlink message")

// nextMessage splits the first message off b.
func nextMessage(b []byte) (nlMessage, []byte, error) {
	if len(b) < nlmsgHdrLen {
		return nlMessage{}, nil, errShortMessage
	}
	l := int(ne.Uint32(b))
	if l < nlmsgHdrLen || l > len(b) {
		return nlMessage{}, nil, errShortMessage
	}
	m := nlMessage{Type: ne.Uint16(b[4:]), Flags: ne.Uint16(b[6:]), Seq: ne.Uint32(b[8:]), Data: b[nlmsgHdrLen:l]}
	rest := b[min(align4(l), len(b)):]
	return m, rest, nil
}

// errnoOf is the errno (positive) of an NLMSG_ERROR message, 0 for an acknowledgement.
func errnoOf(data []byte) (int32, error) {
	if len(data) < 4 {
		return 0, errShortMessage
	}
	return -int32(ne.Uint32(data)), nil
}

// attrs iterates over netlink attributes; fn sees each type (flags masked) and payload.
func attrs(b []byte, fn func(typ uint16, v []byte)) error {
	for len(b) >= nlaHdrLen {
		l := int(ne.Uint16(b))
		if l < nlaHdrLen || l > len(b) {
			return errShortMessage
		}
		fn(ne.Uint16(b[2:])&nlaTypeMask, b[nlaHdrLen:l])
		b = b[min(align4(l), len(b)):]
	}
	return nil
}

func u32of(v []byte) uint32 {
	if len(v) < 4 {
		return 0
	}
	return ne.Uint32(v)
}

func u16of(v []byte) uint16 {
	if len(v) < 2 {
		return 0
	}
	return ne.Uint16(v)
}

func u64of(v []byte) uint64 {
	if len(v) < 8 {
		return uint64(u32of(v))
	}
	return ne.Uint64(v)
}

func be16of(v []byte) uint16 {
	if len(v) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

// cstring returns a NUL-terminated attribute as a string, without allocating for the
// usual scheduler names.
func cstring(v []byte) string {
	for i, c := range v {
		if c == 0 {
			v = v[:i]
			break
		}
	}
	switch string(v) { // the compiler does not allocate for this comparison
	case "rr":
		return "rr"
	case "wrr":
		return "wrr"
	case "lc":
		return "lc"
	case "wlc":
		return "wlc"
	case "sh":
		return "sh"
	case "mh":
		return "mh"
	case "dh":
		return "dh"
	case "sed":
		return "sed"
	case "nq":
		return "nq"
	case "lblc":
		return "lblc"
	case "lblcr":
		return "lblcr"
	case "fo":
		return "fo"
	case "ovf":
		return "ovf"
	case "":
		return ""
	}
	return string(v)
}

func addrOfAttr(f Family, v []byte) netip.Addr {
	if f == IPv6 && len(v) >= 16 {
		return netip.AddrFrom16([16]byte(v[:16]))
	}
	if len(v) >= 4 {
		return netip.AddrFrom4([4]byte(v[:4]))
	}
	return netip.Addr{}
}

func decodeStats(v []byte, wide bool, st *Stats) error {
	return attrs(v, func(typ uint16, v []byte) {
		get := func() uint64 {
			if wide {
				return u64of(v)
			}
			return uint64(u32of(v))
		}
		switch typ {
		case statsConns:
			st.Conns = get()
		case statsInPkts:
			st.InPkts = get()
		case statsOutPkts:
			st.OutPkts = get()
		case statsInBytes:
			st.InBytes = u64of(v)
		case statsOutBytes:
			st.OutBytes = u64of(v)
		case statsCPS:
			st.CPS = get()
		case statsInPPS:
			st.InPPS = get()
		case statsOutPPS:
			st.OutPPS = get()
		case statsInBPS:
			st.InBPS = get()
		case statsOutBPS:
			st.OutBPS = get()
		}
	})
}

// nested returns the payload of the first attribute of type typ in a generic netlink
// message body (after the netlink header).
func nested(data []byte, typ uint16) ([]byte, error) {
	if len(data) < genlHdrLen {
		return nil, errShortMessage
	}
	var out []byte
	err := attrs(data[genlHdrLen:], func(t uint16, v []byte) {
		if t == typ && out == nil {
			out = v
		}
	})
	if err == nil && out == nil {
		err = fmt.Errorf("netlink message without attribute %d", typ)
	}
	return out, err
}

// decodeService parses a service message body (a GET_SERVICE reply or a service request).
func decodeService(data []byte) (Service, error) {
	var s Service
	v, err := nested(data, attrCmdService)
	if err != nil {
		return s, err
	}
	var (
		addr, netmask  []byte
		flags, timeout uint32
		proto          uint16
		port           uint16
		fwmark         uint32
		fam            = IPv4
		stats, stats64 []byte
	)
	err = attrs(v, func(typ uint16, v []byte) {
		switch typ {
		case svcAF:
			if u16of(v) == afInet6 {
				fam = IPv6
			}
		case svcProtocol:
			proto = u16of(v)
		case svcAddr:
			addr = v
		case svcPort:
			port = be16of(v)
		case svcFWMark:
			fwmark = u32of(v)
		case svcSchedName:
			s.Scheduler = cstring(v)
		case svcFlags:
			flags = u32of(v)
		case svcTimeout:
			timeout = u32of(v)
		case svcNetmask:
			netmask = v
		case svcPEName:
			s.PEName = cstring(v)
		case svcStats:
			stats = v
		case svcStats64:
			stats64 = v
		}
	})
	if err != nil {
		return s, err
	}
	if fwmark != 0 {
		s.Key = FWMarkKey(fam, fwmark)
	} else {
		s.Key = AddrKey(Protocol(proto), addrOfAttr(fam, addr), port)
		s.Key.Family = fam
	}
	s.Flags = flags & userFlags
	if flags&FlagPersistent != 0 {
		s.Persistence = timeout
		if b := netmaskBitsOfAttr(fam, netmask); b != fullBits(fam) {
			s.NetmaskBits = b
		}
	}
	if stats64 != nil {
		err = decodeStats(stats64, true, &s.Stats)
	} else if stats != nil {
		err = decodeStats(stats, false, &s.Stats)
	}
	return s, err
}

// decodeDest parses a destination message body (a GET_DEST reply or a destination
// request); svcFam is the service's family, the default of old kernels.
func decodeDest(data []byte, svcFam Family) (Destination, error) {
	var d Destination
	v, err := nested(data, attrCmdDest)
	if err != nil {
		return d, err
	}
	var addr, stats, stats64 []byte
	fam := svcFam
	err = attrs(v, func(typ uint16, v []byte) {
		switch typ {
		case dstAddr:
			addr = v
		case dstPort:
			d.Port = be16of(v)
		case dstFwdMethod:
			d.Forward = Forward(u32of(v) & fwdMethodMask)
		case dstWeight:
			d.Weight = int(int32(u32of(v)))
		case dstUThresh:
			d.UpperThreshold = u32of(v)
		case dstLThresh:
			d.LowerThreshold = u32of(v)
		case dstActive:
			d.ActiveConns = u32of(v)
		case dstInactive:
			d.InactiveConns = u32of(v)
		case dstAF:
			if u16of(v) == afInet6 {
				fam = IPv6
			} else {
				fam = IPv4
			}
		case dstStats:
			stats = v
		case dstStats64:
			stats64 = v
		}
	})
	if err != nil {
		return d, err
	}
	d.Addr = addrOfAttr(fam, addr)
	if stats64 != nil {
		err = decodeStats(stats64, true, &d.Stats)
	} else if stats != nil {
		err = decodeStats(stats, false, &d.Stats)
	}
	return d, err
}
