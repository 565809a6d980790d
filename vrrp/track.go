package vrrp

import "fmt"

// Tracking (keepalived's track_script, track_interface, track_file): pure rules that turn
// tracked results into an effective priority or a FAULT. The runner feeds results into the
// Machine (Machine.Track, Machine.Link); the Machine re-evaluates at once.

// TrackKind is what a tracked item watches.
type TrackKind int

const (
	TrackScript    TrackKind = iota // a vrrp_script's exit status
	TrackInterface                  // a link's operational state
	TrackFile                       // an integer read from a file
)

func (k TrackKind) String() string {
	switch k {
	case TrackInterface:
		return "interface"
	case TrackFile:
		return "file"
	}
	return "script"
}

// Tracked is one tracked item of an instance.
//
// Scripts and interfaces: weight 0 => FAULT while failing; weight > 0 is added to the
// priority while it succeeds; weight < 0 while it fails; Reverse swaps success and failure.
// Files: weight 0 => FAULT while the value is non-zero (Reverse: while it is zero); else
// value x weight (x -weight with Reverse) is added, and a sum below -253 is a FAULT.
type Tracked struct {
	Kind    TrackKind
	Name    string
	Weight  int
	Reverse bool
}

// Key identifies the item in events and status: "script:NAME", "interface:NAME", "file:NAME".
func (t Tracked) Key() string { return t.Kind.String() + ":" + t.Name }

// TrackResult is the latest result of a tracked item: OK for scripts and interfaces, Value
// for files.
type TrackResult struct {
	OK    bool
	Value int
}

func (r TrackResult) String() string { return fmt.Sprintf("ok=%v value=%d", r.OK, r.Value) }

// minFileAdjust: a track file whose value x weight is below this puts the instance in FAULT
// (keepalived: "less than -253").
const minFileAdjust = -253

// Effect is what a result does: add Adjust to the priority, or force FAULT.
func (t Tracked) Effect(r TrackResult) (adjust int, fault bool) {
	if t.Kind == TrackFile {
		if t.Weight == 0 {
			return 0, (r.Value != 0) != t.Reverse
		}
		w := t.Weight
		if t.Reverse {
			w = -w
		}
		adj := r.Value * w
		if adj < minFileAdjust {
			return 0, true
		}
		return adj, false
	}
	ok := r.OK != t.Reverse
	switch {
	case t.Weight == 0:
		return 0, !ok
	case t.Weight > 0 && ok, t.Weight < 0 && !ok:
		return t.Weight, false
	}
	return 0, false
}

// EffectivePriority is base plus the adjustments, clamped to 1..254; an address owner
// (255) is never adjusted.
func EffectivePriority(base uint8, adjust int) uint8 {
	if base == PriorityOwner {
		return base
	}
	p := int(base) + adjust
	return uint8(min(max(p, 1), PriorityOwner-1))
}
