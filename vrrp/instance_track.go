package vrrp

import (
	"fmt"

	"strings"
	"sync"
	"time"
)

// TrackStatus is one tracked item in Status.
type TrackStatus struct {
	Kind    string // "script", "interface", "file"
	Name    string
	Weight  int
	Reverse bool
	Known   bool // a result arrived (before that the item neither fails nor adjusts)
	OK      bool // scripts, interfaces: the last result
	Value   int  // files: the last value read
	// Effect: "fault" (this item puts the instance in FAULT), "+N"/"-N" (its adjustment
	// of the priority) or "none".
	Effect string
}

// Track feeds a tracked script's or file's result into the protocol loop (key is
// Tracked.Key()). It never blocks; results sent before Run starts are applied at start,
// after Run returned they are dropped.
func (i *Instance) Track(key string, r TrackResult) {
	i.inbox.post(func(m *Machine, now time.Time) []Action { return m.Track(now, key, r) })
}

// SyncFault puts the instance in (on) or out of its sync group's FAULT. Never blocks.
func (i *Instance) SyncFault(on bool) {
	i.inbox.post(func(m *Machine, now time.Time) []Action { return m.SyncFault(now, on) })
}

// SyncState makes the instance follow another member of its sync group to MASTER or
// BACKUP. Never blocks.
func (i *Instance) SyncState(s State) {
	i.inbox.post(func(m *Machine, now time.Time) []Action { return m.SyncState(now, s) })
}

// trackStatus renders the machine's tracked items (protocol loop or before Run only).
func (i *Instance) trackStatus() []TrackStatus {
	var out []TrackStatus
	for _, t := range i.m.tracked {
		r, known := i.m.results[t.Key()]
		ts := TrackStatus{Kind: t.Kind.String(), Name: t.Name, Weight: t.Weight, Reverse: t.Reverse,
			Known: known, OK: r.OK, Value: r.Value, Effect: "none"}
		if known {
			adj, fault := t.Effect(r)
			switch {
			case fault:
				ts.Effect = "fault"
			case adj != 0:
				ts.Effect = fmt.Sprintf("%+d", adj)
			}
		}
		out = append(out, ts)
	}
	return out
}

// trackSummary is a one-line view of the tracked items for the priority-change log line.
func (i *Instance) trackSummary() string {
	var parts []string
	for _, t := range i.trackStatus() {
		if t.Effect != "none" {
			parts = append(parts, t.Kind+" "+t.Name+" "+t.Effect)
		}
	}
	return strings.Join(parts, ", ")
}

// Drop causes that mean the routers' configs disagree: the cause of a split brain, so they
// are logged at WARN (rate-limited), not only counted.
var loudDrops = map[DropReason]string{
	DropAuthType:  "authentication type differs",
	DropAuthData:  "authentication password differs",
	DropAdvertInt: "advert_int differs",
	DropTTL:       "TTL is not 255 (the advert crossed a router)",
	DropVersion:   "VRRP version differs",
}

// warnDrop logs a dropped advert for our VRID at WARN when its cause is a config mismatch,
// at most once per cause per dropWarnEvery. It reports whether the drop was such a one.
func (i *Instance) warnDrop(p Packet, r checkResult) bool {
	why, loud := loudDrops[r.Drop]
	if !loud {
		return false
	}
	adv := r.Advert
	if r.Drop == DropTTL { // dropped before parsing: is it for our VRID at all?
		a, err := Parse(p.Payload, p.Src, p.Dst)
		if err != nil {
			return false
		}
		adv = a
	}
	if adv.VRID != i.cfg.VRID {
		return false
	}
	if ok, n := i.warns.allow(r.Drop.String(), i.deps.Clock.Now()); ok {
		i.log.Warn("VRRP advert for our VRID dropped: "+why+"; both routers may become MASTER (split brain)",
			"src", p.Src, "vrid", i.cfg.VRID, "reason", r.Drop, "their_priority", adv.Priority,
			"their_advert_int", adv.AdvertInt, "ttl", p.TTL, "suppressed", n)
	}
	return true
}

// inbox is an unbounded, never-blocking queue of events for the protocol loop, so that
// instances of one sync group can post to each other from their own loops without
// deadlock.
type inbox struct {
	mu     sync.Mutex
	q      []func(*Machine, time.Time) []Action
	closed bool
	wake   chan struct{}
}

func newInbox() *inbox { return &inbox{wake: make(chan struct{}, 1)} }

func (b *inbox) post(ev func(*Machine, time.Time) []Action) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.q = append(b.q, ev)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *inbox) take() []func(*Machine, time.Time) []Action {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.q
	b.q = nil
	return q
}

func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.q = nil
	b.mu.Unlock()
}
