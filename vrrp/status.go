package vrrp

import (
	"maps"
	"time"
)

// Status is a snapshot of one instance, safe to keep and to marshal (States and Reasons
// marshal as their names).
type Status struct {
	Name              string
	Interface         string
	Version           uint8  // 2 or 3
	Family            string // "inet" or "inet6"
	State             State
	Priority          uint8 // as configured
	EffectivePriority uint8 // what we advertise: Priority adjusted by the tracked items
	VIPs              []string
	MasterIP          string // "" when unknown (INIT, FAULT, or backup before any advert)
	AdvertsSent       uint64
	AdvertsReceived   uint64 // accepted by the receive checks
	// Drops counts discarded packets by DropReason.String(); every reason is present.
	Drops map[string]uint64
	// AddrMismatches counts accepted adverts whose address list differs from ours.
	AddrMismatches uint64
	// IntervalMismatches counts accepted VRRPv3 adverts whose interval differs from ours.
	IntervalMismatches uint64
	// Errors counts failed effects by kind: "send", "add_vip", "remove_vip", "garp", "recv".
	Errors         map[string]uint64
	Transitions    uint64
	LastTransition TransitionRecord
	VRID           uint8
	// BecameMaster and ReleasedMaster count transitions into and out of MASTER (keepalived's
	// "Became master" and "Released master" statistics).
	BecameMaster, ReleasedMaster uint64
	// Tracked is every tracked item and its last result.
	Tracked []TrackStatus
}

func (s *Status) countMaster(from, to State) {
	switch {
	case to == StateMaster && from != StateMaster:
		s.BecameMaster++
	case from == StateMaster && to != StateMaster:
		s.ReleasedMaster++
	}
}

// TransitionRecord is the latest state change.
type TransitionRecord struct {
	At       time.Time
	From, To State
	Reason   Reason
}

// Error kinds counted in Status.Errors.
const (
	errSend      = "send"
	errAddVIP    = "add_vip"
	errRemoveVIP = "remove_vip"
	errGARP      = "garp"
	errRecv      = "recv"
)

func newStatus(cfg InstanceConfig) Status {
	s := Status{
		Name:              cfg.Name,
		Interface:         cfg.Interface,
		Version:           max(cfg.Version, Version2),
		Family:            "inet",
		VRID:              cfg.VRID,
		State:             StateInit,
		Priority:          cfg.Priority,
		EffectivePriority: cfg.Priority,
		Drops:             map[string]uint64{},
		Errors:            map[string]uint64{errSend: 0, errAddVIP: 0, errRemoveVIP: 0, errGARP: 0, errRecv: 0},
	}
	if cfg.PrimaryIP.Is6() {
		s.Family = "inet6"
	}
	for _, v := range cfg.VIPs {
		s.VIPs = append(s.VIPs, v.Prefix.String())
	}
	for _, r := range DropReasons() {
		s.Drops[r.String()] = 0
	}
	return s
}

// clone deep-copies the maps and slices so the snapshot does not alias live counters.
func (s Status) clone() Status {
	s.VIPs = append([]string(nil), s.VIPs...)
	s.Drops = maps.Clone(s.Drops)
	s.Errors = maps.Clone(s.Errors)
	s.Tracked = append([]TrackStatus(nil), s.Tracked...)
	return s
}

// MarshalText makes a State marshal as its name (INIT, BACKUP, MASTER, FAULT).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalText makes a Reason marshal as its description.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
