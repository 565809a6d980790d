package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Wire constants of RFC 3768 section 5.
const (
	ProtocolNumber    = 112 // IP protocol number of VRRP
	Version2          = 2
	TypeAdvertisement = 1
	AuthNone          = 0 // no authentication
	AuthPass          = 1 // simple text password (RFC 2338, kept by keepalived)
	AuthAH            = 2 // IP Authentication Header (not supported)
	headerLen         = 8 // version/type .. checksum
	AuthDataLen       = 8 // VRRPv2 always carries 8 bytes of authentication data
	MaxAddrs          = 255
	// PriorityOwner is the priority of the router that owns the virtual addresses.
	PriorityOwner = 255
	// PriorityStop is sent by a master that stops, so a backup takes over after Skew_Time.
	PriorityStop = 0
)

// MulticastGroup is the IPv4 destination of VRRP adverts (RFC 3768 section 5.2.2).
var MulticastGroup = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// Advert is one decoded (or to-be-encoded) VRRPv2 advertisement.
type Advert struct {
	VRID      uint8
	Priority  uint8
	AuthType  uint8
	AdvertInt uint8 // seconds
	Checksum  uint16
	Addrs     []netip.Addr // IPv4 only
	AuthData  [AuthDataLen]byte
}

// Decode errors. Parse returns a *ParseError whose Err is one of these, so callers use
// errors.Is and never match strings.
var (
	ErrTruncated = errors.New("truncated VRRP message")
	ErrVersion   = errors.New("not VRRP version 2")
	ErrType      = errors.New("not a VRRP advertisement")
	ErrChecksum  = errors.New("bad VRRP checksum")
	ErrMalformed = errors.New("malformed VRRP message")
)

// ParseError says why bytes are not a valid VRRPv2 advertisement.
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
func (a *Advert) Len() int { return headerLen + 4*len(a.Addrs) + AuthDataLen }

// Marshal encodes the advert with a fresh checksum (a.Checksum is ignored).
func (a *Advert) Marshal() ([]byte, error) {
	return a.AppendTo(make([]byte, 0, a.Len()))
}

// AppendTo appends the encoded advert to b. gopacket's layers.VRRPv2 cannot serialize,
// hence this encoder of our own.
func (a *Advert) AppendTo(b []byte) ([]byte, error) {
	if len(a.Addrs) > MaxAddrs {
		return b, fmt.Errorf("encode VRRP advert: %d addresses, at most %d", len(a.Addrs), MaxAddrs)
	}
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

// Parse decodes one VRRPv2 advertisement (the IP payload) and verifies its version, type,
// length and checksum. The lengths are checked here before gopacket's decoder sees the
// bytes, because layers.VRRPv2 (v1.1.19) indexes without bounds checks; the addresses
// are copied out because its slices alias the input.
func Parse(b []byte) (adv Advert, err error) {
	if len(b) < headerLen {
		return Advert{}, parseErr(ErrTruncated, "%d bytes, header needs %d", len(b), headerLen)
	}
	if v := b[0] >> 4; v != Version2 {
		return Advert{}, parseErr(ErrVersion, "version %d", v)
	}
	if t := b[0] & 0x0f; t != TypeAdvertisement {
		return Advert{}, parseErr(ErrType, "type %d", t)
	}
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
		VRID: b[1], Priority: b[2], AuthType: b[4], AdvertInt: b[5],
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
