package vrrp

import (
	"errors"
	"net/netip"
	"slices"
)

// DropReason says why a received packet was discarded (RFC 3768 / RFC 5798 section 7.1). A dropped
// packet never changes state; every drop is counted by reason in Status.Drops.
type DropReason int

const (
	DropNone      DropReason = iota
	DropTruncated            // shorter than its header or address count says
	DropVersion              // not our VRRP version (e.g. a VRRPv3 router beside a VRRPv2 one)
	DropType                 // not an advertisement
	DropChecksum             // RFC 1071 checksum wrong
	DropMalformed            // the decoder refused it
	DropTTL                  // IP TTL not 255: the packet crossed a router
	DropVRID                 // for another virtual router: ignored, but counted
	DropOwner                // we own the addresses (priority 255): RFC 3768 7.1 says discard
	DropAuthType             // authentication type differs from ours
	DropAuthData             // PASS password differs from ours
	DropAdvertInt            // VRRPv2 interval differs from ours, or a VRRPv3 interval of 0
	DropNotPeer              // unicast mode: source is not a configured peer
	DropOwnPacket            // our own advert looped back
	dropCount
)

var dropNames = [...]string{
	DropNone:      "none",
	DropTruncated: "truncated",
	DropVersion:   "version",
	DropType:      "type",
	DropChecksum:  "checksum",
	DropMalformed: "malformed",
	DropTTL:       "ttl",
	DropVRID:      "vrid",
	DropOwner:     "owner",
	DropAuthType:  "auth_type",
	DropAuthData:  "auth_data",
	DropAdvertInt: "advert_int",
	DropNotPeer:   "not_peer",
	DropOwnPacket: "own_packet",
}

func (r DropReason) String() string {
	if r >= 0 && r < dropCount {
		return dropNames[r]
	}
	return "unknown"
}

// DropReasons lists every reason a packet may be dropped for (DropNone excluded).
func DropReasons() []DropReason {
	rs := make([]DropReason, 0, dropCount-1)
	for r := DropNone + 1; r < dropCount; r++ {
		rs = append(rs, r)
	}
	return rs
}

// receiveChecks holds what RFC 3768 / RFC 5798 section 7.1 compare a received advert with.
type receiveChecks struct {
	version   uint8 // Version2 (0 means 2) or Version3
	vrid      uint8
	owner     bool
	authType  uint8
	authData  [AuthDataLen]byte
	advertInt uint8        // VRRPv2: seconds
	maxInt    uint16       // VRRPv3: our own interval in centiseconds
	addrs     []netip.Addr // our VIPs, sorted
	peers     []netip.Addr // unicast mode when not empty
	self      netip.Addr   // our primary address: our own looped-back adverts are dropped
}

// checkResult is the verdict on one packet.
type checkResult struct {
	Advert       Advert
	Drop         DropReason
	AddrMismatch bool // accepted, but its address list differs from ours: warn
	// IntervalMismatch: a VRRPv3 advert whose interval differs from ours, accepted (a
	// backup follows the master's interval, RFC 5798 section 6.4.2) and reported, as
	// keepalived does.
	IntervalMismatch bool
	Err              error
}

// check runs every receive check of RFC 3768 / RFC 5798 section 7.1 on one packet, in the
// RFC's order. The address-list check is the RFC's MAY: a mismatch is accepted and
// reported (newer keepalived only warns too), because dropping it would turn a typo into
// two masters. p.TTL is the IPv4 TTL or the IPv6 hop limit.
func (c *receiveChecks) check(p Packet) checkResult {
	if p.TTL != 255 {
		return checkResult{Drop: DropTTL}
	}
	// The version comes before the length and checksum checks (RFC 3768 section 7.1): an
	// advert of the other version is counted as such, not as malformed, whatever its
	// length says under our version's layout.
	if len(p.Payload) > 0 {
		if v := p.Payload[0] >> 4; (v == Version2 || v == Version3) && v != max(c.version, Version2) {
			return checkResult{Drop: DropVersion}
		}
	}
	adv, err := Parse(p.Payload, p.Src, p.Dst)
	if err != nil {
		r := DropMalformed
		switch {
		case errors.Is(err, ErrTruncated):
			r = DropTruncated
		case errors.Is(err, ErrVersion):
			r = DropVersion
		case errors.Is(err, ErrType):
			r = DropType
		case errors.Is(err, ErrChecksum):
			r = DropChecksum
		}
		return checkResult{Drop: r, Err: err}
	}
	if want := max(c.version, Version2); adv.Version != want {
		return checkResult{Advert: adv, Drop: DropVersion}
	}
	if adv.VRID != c.vrid {
		return checkResult{Advert: adv, Drop: DropVRID}
	}
	if len(c.peers) > 0 && !slices.Contains(c.peers, p.Src) {
		return checkResult{Advert: adv, Drop: DropNotPeer}
	}
	if c.self.IsValid() && p.Src == c.self {
		return checkResult{Advert: adv, Drop: DropOwnPacket}
	}
	if c.owner {
		return checkResult{Advert: adv, Drop: DropOwner}
	}
	var intervalMismatch bool
	if adv.Version == Version3 {
		if adv.MaxAdvertInt == 0 {
			// A backup following it would see the master as down at once.
			return checkResult{Advert: adv, Drop: DropAdvertInt}
		}
		intervalMismatch = adv.MaxAdvertInt != c.maxInt
	} else {
		if adv.AuthType != c.authType {
			return checkResult{Advert: adv, Drop: DropAuthType}
		}
		if c.authType == AuthPass && adv.AuthData != c.authData {
			return checkResult{Advert: adv, Drop: DropAuthData}
		}
		if adv.AdvertInt != c.advertInt {
			return checkResult{Advert: adv, Drop: DropAdvertInt}
		}
	}
	got := slices.Clone(adv.Addrs)
	slices.SortFunc(got, netip.Addr.Compare)
	return checkResult{Advert: adv, AddrMismatch: !slices.Equal(got, c.addrs), IntervalMismatch: intervalMismatch}
}
