package lvs

import (
	"fmt"
	"strconv"
	"strings"
)

// OpKind is what an Op does to the kernel.
type OpKind uint8

const (
	AddService OpKind = iota + 1
	EditService
	DelService
	AddDest
	EditDest
	DelDest
)

func (k OpKind) String() string {
	switch k {
	case AddService:
		return "add service"
	case EditService:
		return "edit service"
	case DelService:
		return "delete service"
	case AddDest:
		return "add real server"
	case EditDest:
		return "edit real server"
	case DelDest:
		return "delete real server"
	}
	return "op(" + strconv.Itoa(int(k)) + ")"
}

// Op is one netlink operation. Service points at the desired service (the current one for
// deletions); its Destinations are not part of the op. Dest is set for destination ops.
type Op struct {
	Kind    OpKind
	Service *Service
	Dest    *Destination
	// Changes says what differed, for edits: "weight 1 -> 3".
	Changes []string
}

// String is the op for logs, e.g. "edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 1 -> 3".
func (o Op) String() string {
	var b strings.Builder
	b.WriteString(o.Kind.String())
	b.WriteByte(' ')
	b.WriteString(o.Service.Key.Normalize().String())
	switch o.Kind {
	case AddService:
		fmt.Fprintf(&b, " %s", serviceSettings(o.Service))
	case AddDest:
		fmt.Fprintf(&b, " -> %s %s weight %d", o.Dest, o.Dest.Forward, o.Dest.Weight)
	case EditDest, DelDest:
		fmt.Fprintf(&b, " -> %s", o.Dest)
	}
	if len(o.Changes) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(o.Changes, ", "))
	}
	return b.String()
}

func serviceSettings(s *Service) string {
	out := "scheduler " + s.scheduler()
	if s.Persistence > 0 {
		out += fmt.Sprintf(" persistent %d", s.Persistence)
		if s.netmaskBits() != fullBits(s.Key.Normalize().Family) {
			out += fmt.Sprintf(" netmask /%d", s.netmaskBits())
		}
	}
	if s.Flags != 0 {
		out += fmt.Sprintf(" flags %#x", s.Flags)
	}
	return out
}

// serviceChanges lists the editable settings in which cur differs from want.
func serviceChanges(want, cur *Service) []string {
	var ch []string
	if want.scheduler() != cur.scheduler() {
		ch = append(ch, "scheduler "+cur.scheduler()+" -> "+want.scheduler())
	}
	if want.Flags&userFlags != cur.Flags&userFlags {
		ch = append(ch, fmt.Sprintf("flags %#x -> %#x", cur.Flags&userFlags, want.Flags&userFlags))
	}
	if want.Persistence != cur.Persistence {
		ch = append(ch, fmt.Sprintf("persistence %d -> %d", cur.Persistence, want.Persistence))
	}
	// The netmask only matters (and is only reported by FromIPVS) with persistence.
	if want.Persistence > 0 && want.netmaskBits() != cur.netmaskBits() {
		ch = append(ch, fmt.Sprintf("netmask /%d -> /%d", cur.netmaskBits(), want.netmaskBits()))
	}
	if want.PEName != cur.PEName {
		ch = append(ch, fmt.Sprintf("pe %q -> %q", cur.PEName, want.PEName))
	}
	return ch
}

func destChanges(want, cur *Destination) []string {
	var ch []string
	if want.Weight != cur.Weight {
		ch = append(ch, "weight "+strconv.Itoa(cur.Weight)+" -> "+strconv.Itoa(want.Weight))
	}
	if want.Forward != cur.Forward {
		ch = append(ch, "forward "+cur.Forward.String()+" -> "+want.Forward.String())
	}
	if want.UpperThreshold != cur.UpperThreshold {
		ch = append(ch, fmt.Sprintf("upper threshold %d -> %d", cur.UpperThreshold, want.UpperThreshold))
	}
	if want.LowerThreshold != cur.LowerThreshold {
		ch = append(ch, fmt.Sprintf("lower threshold %d -> %d", cur.LowerThreshold, want.LowerThreshold))
	}
	return ch
}

// Diff returns the minimal operations that turn current into desired, for every service of
// desired. Services of current that are not in desired are left alone: deleting the ones
// lvsd owns is the Reconciler's decision (DiffOwned). Order: per service, the service op
// first, then destination deletions, edits and additions.
func Diff(desired, current Table) []Op {
	return DiffOwned(desired, current, nil)
}

// DiffOwned is Diff plus deletions of the services of current whose key is in remove (and
// not in desired), emitted first.
func DiffOwned(desired, current Table, remove map[Key]bool) []Op {
	cur := make(map[Key]*Service, len(current))
	for i := range current {
		cur[current[i].Key.Normalize()] = &current[i]
	}
	var ops []Op
	if len(remove) > 0 {
		want := make(map[Key]bool, len(desired))
		for i := range desired {
			want[desired[i].Key.Normalize()] = true
		}
		// Walk current (not the map) so that the order is deterministic.
		for i := range current {
			k := current[i].Key.Normalize()
			if remove[k] && !want[k] {
				ops = append(ops, Op{Kind: DelService, Service: &current[i]})
			}
		}
	}
	for i := range desired {
		want := &desired[i]
		c := cur[want.Key.Normalize()]
		if c == nil {
			ops = append(ops, Op{Kind: AddService, Service: want})
			for j := range want.Destinations {
				ops = append(ops, Op{Kind: AddDest, Service: want, Dest: &want.Destinations[j]})
			}
			continue
		}
		if ch := serviceChanges(want, c); len(ch) > 0 {
			ops = append(ops, Op{Kind: EditService, Service: want, Changes: ch})
		}
		ops = diffDests(ops, want, c)
	}
	return ops
}

// diffDests appends the destination ops of one service present on both sides.
func diffDests(ops []Op, want, cur *Service) []Op {
	// Small services are compared pairwise: no map allocation on the no-op path.
	if len(want.Destinations) <= 32 && len(cur.Destinations) <= 32 {
		for i := range cur.Destinations {
			c := &cur.Destinations[i]
			if findDest(want.Destinations, c.key()) < 0 {
				ops = append(ops, Op{Kind: DelDest, Service: want, Dest: c})
			}
		}
		var adds []int
		for i := range want.Destinations {
			w := &want.Destinations[i]
			j := findDest(cur.Destinations, w.key())
			if j < 0 {
				adds = append(adds, i)
				continue
			}
			if ch := destChanges(w, &cur.Destinations[j]); len(ch) > 0 {
				ops = append(ops, Op{Kind: EditDest, Service: want, Dest: w, Changes: ch})
			}
		}
		for _, i := range adds {
			ops = append(ops, Op{Kind: AddDest, Service: want, Dest: &want.Destinations[i]})
		}
		return ops
	}
	cd := make(map[DestKey]*Destination, len(cur.Destinations))
	for i := range cur.Destinations {
		cd[cur.Destinations[i].key()] = &cur.Destinations[i]
	}
	wd := make(map[DestKey]bool, len(want.Destinations))
	for i := range want.Destinations {
		wd[want.Destinations[i].key()] = true
	}
	for i := range cur.Destinations {
		if !wd[cur.Destinations[i].key()] {
			ops = append(ops, Op{Kind: DelDest, Service: want, Dest: &cur.Destinations[i]})
		}
	}
	var adds []int
	for i := range want.Destinations {
		w := &want.Destinations[i]
		c := cd[w.key()]
		if c == nil {
			adds = append(adds, i)
			continue
		}
		if ch := destChanges(w, c); len(ch) > 0 {
			ops = append(ops, Op{Kind: EditDest, Service: want, Dest: w, Changes: ch})
		}
	}
	for _, i := range adds {
		ops = append(ops, Op{Kind: AddDest, Service: want, Dest: &want.Destinations[i]})
	}
	return ops
}

func findDest(ds []Destination, k DestKey) int {
	for i := range ds {
		if ds[i].Port == k.Port && ds[i].Addr.Unmap() == k.Addr {
			return i
		}
	}
	return -1
}
