package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Wire constants of RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3) section 5.
const (
	ProtocolNumber    = 112 // IP protocol number of VRRP
	Version2          = 2
	Version3          = 3
	TypeAdvertisement = 1
	AuthNone          = 0 // no authentication
	AuthPass          = 1 // simple text password (RFC 2338, kept by keepalived)
	AuthAH            = 2 // IP Authentication Header (not supported)
	headerLen         = 8 // version/type .. checksum
	AuthDataLen       = 8 // VRRPv2 always carries 8 bytes of authentication data
	MaxAddrs          = 255
	// MaxAdvertIntV3 is the largest VRRPv3 Max Advertise Interval: 12 bits of centiseconds.
	MaxAdvertIntV3 = 0x0fff
	// PriorityOwner is the priority of the router that owns the virtual addresses.
	PriorityOwner = 255
	// PriorityStop is sent by a master that stops, so a backup takes over after Skew_Time.
	PriorityStop = 0
)

// MulticastGroup is the IPv4 destination of VRRP adverts (RFC 3768 section 5.2.2).
var MulticastGroup = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// MulticastGroup6 is the IPv6 destination of VRRPv3 adverts (RFC 5798 section 5.1.2.2).
var MulticastGroup6 = netip.MustParseAddr("ff02::12")

// Advert is one decoded (or to-be-encoded) VRRP advertisement of either version.
//
// VRRPv2 (RFC 3768) carries IPv4 addresses, an authentication type and data and the
// interval in whole seconds. VRRPv3 (RFC 5798) carries addresses of one family (that of
// the IP packet), no authentication, and a 12-bit interval in centiseconds; its checksum
// covers a pseudo-header of the IP source and destination, so encoding and decoding a
// VRRPv3 advert needs them.
type Advert struct {
	Version      uint8 // Version2 or Version3; 0 encodes as Version2
	VRID         uint8
	Priority     uint8
	AuthType     uint8  // VRRPv2 only
	AdvertInt    uint8  // VRRPv2: seconds
	MaxAdvertInt uint16 // VRRPv3: centiseconds, 12 bits
	Checksum     uint16
	Addrs        []netip.Addr      // VRRPv2: IPv4; VRRPv3: the IP packet's family
	AuthData     [AuthDataLen]byte // VRRPv2 only
}

// Interval is the advertisement interval the advert carries.
func (a *Advert) Interval() time.Duration {
	if a.Version == Version3 {
		return time.Duration(a.MaxAdvertInt) * 10 * time.Millisecond
	}
	return time.Duration(a.AdvertInt) * time.Second
}

// Centiseconds converts an interval to VRRPv3's unit, rounding to the nearest centisecond.
func Centiseconds(d time.Duration) uint16 {
	c := (d + 5*time.Millisecond) / (10 * time.Millisecond)
	return uint16(min(max(c, 0), 1<<16-1))
}

// Decode errors. Parse returns a *ParseError whose Err is one of these, so callers use
// errors.Is and never match strings.
var (
	ErrTruncated = errors.New("truncated VRRP message")
	ErrVersion   = errors.New("not VRRP version 2 or 3")
	ErrType      = errors.New("not a VRRP advertisement")
	ErrChecksum  = errors.New("bad VRRP checksum")
	ErrMalformed = errors.New("malformed VRRP message")
)

// ParseError says why bytes are not a valid VRRP advertisement.
type ParseError struct {
	Err    error // one of the Err* sentinels above
	Detail string
}

func (e *ParseError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

func (e *ParseError) Unwrap() error { return e.Err }

func parseErr(err error, format string, args ...any) *ParseError {
	return &ParseError{Err: err, Detail: fmt.Sprintf(format, args...)}
}

// Len is the encoded length of the advert.
func (a *Advert) Len() int {
	if a.Version == Version3 {
		n := 4
		if len(a.Addrs) > 0 && a.Addrs[0].Is6() {
			n = 16
		}
		return headerLen + n*len(a.Addrs)
	}
	return headerLen + 4*len(a.Addrs) + AuthDataLen
}

// Marshal encodes the advert with a fresh checksum (a.Checksum is ignored). src and dst
// are the IP source and destination the advert will be sent with: the VRRPv3 checksum
// covers them (VRRPv2 ignores them).
func (a *Advert) Marshal(src, dst netip.Addr) ([]byte, error) {
	return a.AppendTo(make([]byte, 0, a.Len()), src, dst)
}

// AppendTo appends the encoded advert to b; see Marshal for src and dst. gopacket's
// layers.VRRPv2 cannot serialize (and has no VRRPv3), hence this encoder of our own.
func (a *Advert) AppendTo(b []byte, src, dst netip.Addr) ([]byte, error) {
	if len(a.Addrs) > MaxAddrs {
		return b, fmt.Errorf("encode VRRP advert: %d addresses, at most %d", len(a.Addrs), MaxAddrs)
	}
	switch a.Version {
	case 0, Version2:
		return a.appendV2(b)
	case Version3:
		return a.appendV3(b, src, dst)
	}
	return b, fmt.Errorf("encode VRRP advert: version %d", a.Version)
}

func (a *Advert) appendV2(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, Version2<<4|TypeAdvertisement, a.VRID, a.Priority, uint8(len(a.Addrs)),
		a.AuthType, a.AdvertInt, 0, 0)
	for _, ip := range a.Addrs {
		if !ip.Is4() {
			return b[:start], fmt.Errorf("encode VRRP advert: %s is not an IPv4 address", ip)
		}
		v := ip.As4()
		b = append(b, v[:]...)
	}
	b = append(b, a.AuthData[:]...)
	binary.BigEndian.PutUint16(b[start+6:], Checksum(b[start:]))
	return b, nil
}

func (a *Advert) appendV3(b []byte, src, dst netip.Addr) ([]byte, error) {
	if a.MaxAdvertInt > MaxAdvertIntV3 {
		return b, fmt.Errorf("encode VRRPv3 advert: interval %d cs does not fit in 12 bits", a.MaxAdvertInt)
	}
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return b, fmt.Errorf("encode VRRPv3 advert: need IP source and destination of one family, got %v and %v", src, dst)
	}
	start := len(b)
	b = append(b, Version3<<4|TypeAdvertisement, a.VRID, a.Priority, uint8(len(a.Addrs)),
		byte(a.MaxAdvertInt>>8), byte(a.MaxAdvertInt), 0, 0)
	for _, ip := range a.Addrs {
		if ip.Is4() != src.Is4() {
			return b[:start], fmt.Errorf("encode VRRPv3 advert: %s is not of the family of source %s", ip, src)
		}
		b = append(b, ip.AsSlice()...)
	}
	binary.BigEndian.PutUint16(b[start+6:], PseudoChecksum(src, dst, b[start:]))
	return b, nil
}

// PseudoChecksum is the RFC 1071 checksum of msg preceded by the IPv4 (RFC 768) or IPv6
// (RFC 8200 section 8.1) pseudo-header for protocol 112, as VRRPv3 computes it.
func PseudoChecksum(src, dst netip.Addr, msg []byte) uint16 {
	return pseudoChecksum(src, dst, ProtocolNumber, msg)
}

func pseudoChecksum(src, dst netip.Addr, proto uint8, msg []byte) uint16 {
	ph := make([]byte, 0, 40+len(msg))
	ph = append(ph, src.AsSlice()...)
	ph = append(ph, dst.AsSlice()...)
	if src.Is4() {
		ph = append(ph, 0, proto, byte(len(msg)>>8), byte(len(msg)))
	} else {
		ph = binary.BigEndian.AppendUint32(ph, uint32(len(msg)))
		ph = append(ph, 0, 0, 0, proto)
	}
	return Checksum(append(ph, msg...))
}

// Checksum is the RFC 1071 Internet checksum of msg (with its checksum field as it is).
// Over a message carrying a correct checksum it yields 0.
func Checksum(msg []byte) uint16 {
	var sum uint32
	for len(msg) >= 2 {
		sum += uint32(msg[0])<<8 | uint32(msg[1])
		msg = msg[2:]
	}
	if len(msg) == 1 {
		sum += uint32(msg[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// Parse decodes one VRRP advertisement of either version (the IP payload) and verifies
// its version, type, length and checksum. src and dst are the IP packet's source and
// destination: a VRRPv3 advert's address family is that of src, and its checksum covers
// both (VRRPv2 ignores them).
func Parse(b []byte, src, dst netip.Addr) (Advert, error) {
	if len(b) < headerLen {
		return Advert{}, parseErr(ErrTruncated, "%d bytes, header needs %d", len(b), headerLen)
	}
	v := b[0] >> 4
	if v != Version2 && v != Version3 {
		return Advert{}, parseErr(ErrVersion, "version %d", v)
	}
	if t := b[0] & 0x0f; t != TypeAdvertisement {
		return Advert{}, parseErr(ErrType, "type %d", t)
	}
	if v == Version3 {
		return parseV3(b, src.Unmap(), dst.Unmap())
	}
	return parseV2(b)
}

// parseV3 decodes a VRRPv3 advert whose version and type Parse checked.
func parseV3(b []byte, src, dst netip.Addr) (Advert, error) {
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return Advert{}, parseErr(ErrMalformed, "VRRPv3 needs IP source and destination of one family, got %v and %v", src, dst)
	}
	alen := 4
	if src.Is6() {
		alen = 16
	}
	count := int(b[3])
	need := headerLen + alen*count
	if len(b) < need {
		return Advert{}, parseErr(ErrTruncated, "%d bytes, %d addresses need %d", len(b), count, need)
	}
	if len(b) > need {
		return Advert{}, parseErr(ErrMalformed, "%d bytes, %d addresses need exactly %d", len(b), count, need)
	}
	if c := PseudoChecksum(src, dst, b); c != 0 {
		return Advert{}, parseErr(ErrChecksum, "checksum field %#04x", binary.BigEndian.Uint16(b[6:]))
	}
	adv := Advert{
		Version: Version3, VRID: b[1], Priority: b[2],
		// The 4 reserved bits are ignored on receipt (RFC 5798 section 5.2.6).
		MaxAdvertInt: binary.BigEndian.Uint16(b[4:]) & MaxAdvertIntV3,
		Checksum:     binary.BigEndian.Uint16(b[6:]),
	}
	if count > 0 {
		adv.Addrs = make([]netip.Addr, count)
	}
	for i := range count {
		a, _ := netip.AddrFromSlice(b[headerLen+alen*i : headerLen+alen*(i+1)]) // copies
		adv.Addrs[i] = a
	}
	return adv, nil
}

// parseV2 decodes a VRRPv2 advert whose version and type Parse checked. The lengths are
// checked here before gopacket's decoder sees the bytes, because layers.VRRPv2 (v1.1.19)
// indexes without bounds checks; the addresses are copied out because its slices alias
// the input.
func parseV2(b []byte) (adv Advert, err error) {
	count := int(b[3])
	need := headerLen + 4*count + AuthDataLen
	if len(b) < need {
		return Advert{}, parseErr(ErrTruncated, "%d bytes, %d addresses need %d", len(b), count, need)
	}
	if len(b) > need {
		// The raw socket hands us exactly the IP payload; extra bytes mean the count
		// is wrong (keepalived drops such packets too).
		return Advert{}, parseErr(ErrMalformed, "%d bytes, %d addresses need exactly %d", len(b), count, need)
	}
	if c := Checksum(b); c != 0 {
		return Advert{}, parseErr(ErrChecksum, "checksum field %#04x", binary.BigEndian.Uint16(b[6:]))
	}
	// Last resort: a panic inside the library must not take the daemon down.
	defer func() {
		if r := recover(); r != nil {
			adv, err = Advert{}, parseErr(ErrMalformed, "decoder panic: %v", r)
		}
	}()
	adv = Advert{
		Version: Version2, VRID: b[1], Priority: b[2], AuthType: b[4], AdvertInt: b[5],
		Checksum: binary.BigEndian.Uint16(b[6:]),
	}
	copy(adv.AuthData[:], b[headerLen+4*count:need])
	if count == 0 {
		// gopacket rejects a zero count, RFC 3768 does not forbid it (keepalived allows an
		// instance without addresses), so there is nothing more to decode.
		return adv, nil
	}
	var l layers.VRRPv2
	if err := l.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return Advert{}, parseErr(ErrMalformed, "%v", err)
	}
	if len(l.IPAddress) != count {
		return Advert{}, parseErr(ErrMalformed, "decoded %d addresses, count says %d", len(l.IPAddress), count)
	}
	adv.Addrs = make([]netip.Addr, count)
	for i, ip := range l.IPAddress {
		a, ok := netip.AddrFromSlice(ip) // copies
		if !ok {
			return Advert{}, parseErr(ErrMalformed, "address %d has %d bytes", i, len(ip))
		}
		adv.Addrs[i] = a
	}
	return adv, nil
}

// AuthPassData is the 8-byte authentication data for a PASS password: the password
// truncated or zero-padded to 8 bytes, as keepalived sends it.
func AuthPassData(pass string) [AuthDataLen]byte {
	var d [AuthDataLen]byte
	copy(d[:], pass)
	return d
}
