package config

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// vsMemo keeps the virtual servers a Loader built, by the decoded block they came from.
// An item the Loader found unchanged keeps its blocks, so its virtual server need not be
// built again (37,000 real servers take 80 ms to build). The result is reused only when
// everything building it read is the same: the block (same pointer: same text), its place
// (positions end up in the result and its messages), and the VIPs of the instances (a
// real server must not be one). Virtual servers that run commands are always built again,
// because building them checks the scripts' files, which may have changed.
//
// Reuse hands the same RealServers slice to consecutive configurations, which Diff and
// the daemon use to see at once that nothing changed; configurations are read only.
type vsMemo struct {
	vips  map[netip.Addr]seenAt // the VIP owners of the last build
	built map[*rawBlock]*builtVS

	// During a build: what it built or reused, and whether the VIPs are those of the last.
	next     map[*rawBlock]*builtVS
	sameVIPs bool
}

type builtVS struct {
	at          hcl.Range
	vs          VirtualServer
	ok          bool
	errs, warns Diagnostics
}

// done makes what this build made the memo of the next one.
func (m *vsMemo) done(vipOwner map[netip.Addr]seenAt) {
	m.vips, m.built, m.next = maps.Clone(vipOwner), m.next, nil
}

// virtualServer is buildVirtualServer through the memo, when the sink has one.
func (s *sink) virtualServer(b *rawBlock, vipOwner map[netip.Addr]seenAt) (VirtualServer, bool) {
	m := s.memo
	if m == nil {
		return s.buildVirtualServer(b, vipOwner)
	}
	if m.next == nil {
		m.next = map[*rawBlock]*builtVS{}
		m.sameVIPs = maps.Equal(m.vips, vipOwner)
	}
	if e := m.built[b]; e != nil && e.at == b.TypeRange && m.sameVIPs {
		s.errs = append(s.errs, e.errs...)
		s.warns = append(s.warns, e.warns...)
		m.next[b] = e
		return e.vs, e.ok
	}
	ne, nw := len(s.errs), len(s.warns)
	vs, ok := s.buildVirtualServer(b, vipOwner)
	if !runsCommands(b) {
		m.next[b] = &builtVS{at: b.TypeRange, vs: vs, ok: ok,
			errs: slices.Clone(s.errs[ne:]), warns: slices.Clone(s.warns[nw:])}
	}
	return vs, ok
}

// runsCommands reports whether the block or one inside it names a command.
func runsCommands(b *rawBlock) bool {
	for _, name := range []string{"quorum_up", "quorum_down", "notify_up", "notify_down", "misc_path"} {
		if _, ok := b.Attrs[name]; ok || b.bad[name] {
			return true
		}
	}
	return slices.ContainsFunc(b.Blocks, runsCommands)
}
