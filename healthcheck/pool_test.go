package healthcheck

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

var (
	rs1   = netip.MustParseAddrPort("10.0.0.1:80")
	rs2   = netip.MustParseAddrPort("10.0.0.2:80")
	rs3   = netip.MustParseAddrPort("10.0.0.3:80")
	sorry = netip.MustParseAddrPort("10.0.0.9:80")
)

func fmtDests(ds []Dest) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, "; ")
}

func fmtEvents(es []Event) string {
	var s []string
	for _, e := range es {
		if e.Server.IsValid() {
			s = append(s, fmt.Sprintf("%v %v", e.Kind, e.Server))
		} else {
			s = append(s, e.Kind.String())
		}
	}
	return strings.Join(s, "; ")
}

func TestPool(t *testing.T) {
	type round struct {
		up     []bool // per server rs1, rs2, rs3
		dests  string
		events string
	}
	servers := func(up []bool, inhibit bool, dyn *int) []PoolServer {
		out := []PoolServer{
			{Address: rs1, Weight: 1, Up: up[0], Inhibit: inhibit},
			{Address: rs2, Weight: 2, Up: up[1], Inhibit: inhibit, DynamicWeight: dyn},
			{Address: rs3, Weight: 3, Up: up[2], Inhibit: inhibit},
		}
		return out
	}
	five := 5
	tests := []struct {
		name    string
		cfg     PoolConfig
		inhibit bool
		dyn     *int
		rounds  []round
	}{
		{name: "down servers are removed", cfg: PoolConfig{Quorum: 1}, rounds: []round{
			{up: []bool{true, true, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2; 10.0.0.3:80 w3"},
			{up: []bool{true, false, true}, dests: "10.0.0.1:80 w1; 10.0.0.3:80 w3", events: "notify_down 10.0.0.2:80"},
			{up: []bool{true, true, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2; 10.0.0.3:80 w3", events: "notify_up 10.0.0.2:80"},
		}},
		{name: "inhibit_on_failure keeps weight 0", cfg: PoolConfig{Quorum: 1}, inhibit: true, rounds: []round{
			{up: []bool{true, false, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w0; 10.0.0.3:80 w3"},
		}},
		{name: "dynamic weight replaces configured", cfg: PoolConfig{Quorum: 1}, dyn: &five, rounds: []round{
			{up: []bool{false, true, false}, dests: "10.0.0.2:80 w5"},
		}},
		{name: "quorum lost without sorry server only fires hooks", cfg: PoolConfig{Quorum: 4}, rounds: []round{
			{up: []bool{true, true, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2; 10.0.0.3:80 w3"},
			{up: []bool{true, true, false}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2", events: "notify_down 10.0.0.3:80; quorum_down"},
			{up: []bool{false, true, true}, dests: "10.0.0.2:80 w2; 10.0.0.3:80 w3", events: "notify_down 10.0.0.1:80; notify_up 10.0.0.3:80; quorum_up"},
		}},
		{name: "sorry server replaces live servers while quorum is lost", cfg: PoolConfig{Quorum: 4, SorryServer: sorry}, inhibit: true, rounds: []round{
			{up: []bool{true, true, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2; 10.0.0.3:80 w3"},
			{up: []bool{true, true, false}, dests: "10.0.0.3:80 w0; 10.0.0.9:80 w1 sorry", events: "notify_down 10.0.0.3:80; quorum_down"},
			{up: []bool{true, true, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2; 10.0.0.3:80 w3", events: "notify_up 10.0.0.3:80; quorum_up"},
		}},
		{name: "starts with quorum down: sorry server at once", cfg: PoolConfig{Quorum: 1, SorryServer: sorry, SorryWeight: 2}, rounds: []round{
			{up: []bool{false, false, false}, dests: "10.0.0.9:80 w2 sorry", events: "quorum_down"},
			{up: []bool{true, false, false}, dests: "10.0.0.1:80 w1", events: "notify_up 10.0.0.1:80; quorum_up"},
			{up: []bool{false, false, false}, dests: "10.0.0.9:80 w2 sorry", events: "notify_down 10.0.0.1:80; quorum_down"},
		}},
		{name: "hysteresis", cfg: PoolConfig{Quorum: 4, Hysteresis: 1, SorryServer: sorry}, rounds: []round{
			// start: 6 >= 4+1: up
			{up: []bool{true, true, true}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2; 10.0.0.3:80 w3"},
			// 3 >= 4-1: still up
			{up: []bool{true, true, false}, dests: "10.0.0.1:80 w1; 10.0.0.2:80 w2", events: "notify_down 10.0.0.3:80"},
			// 2 < 3: lost
			{up: []bool{false, true, false}, dests: "10.0.0.9:80 w1 sorry", events: "notify_down 10.0.0.1:80; quorum_down"},
			// 4 < 4+1: still lost
			{up: []bool{true, false, true}, dests: "10.0.0.9:80 w1 sorry", events: "notify_up 10.0.0.1:80; notify_down 10.0.0.2:80; notify_up 10.0.0.3:80"},
			// 5 >= 5: regained
			{up: []bool{false, true, true}, dests: "10.0.0.2:80 w2; 10.0.0.3:80 w3", events: "notify_down 10.0.0.1:80; notify_up 10.0.0.2:80; quorum_up"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(tt.cfg)
			for i, r := range tt.rounds {
				dests, events := p.Update(servers(r.up, tt.inhibit, tt.dyn))
				if got := fmtDests(dests); got != r.dests {
					t.Errorf("round %d dests:\n got %s\nwant %s", i, got, r.dests)
				}
				if got := fmtEvents(events); got != r.events {
					t.Errorf("round %d events:\n got %s\nwant %s", i, got, r.events)
				}
			}
		})
	}
}

func TestPoolEventCauses(t *testing.T) {
	p := NewPool(PoolConfig{Quorum: 2, Hysteresis: 1})
	_, ev := p.Update([]PoolServer{{Address: rs1, Weight: 1, Up: true}})
	if len(ev) != 1 || ev[0].Cause != "starting with quorum down: live weight 1 < 2+1" {
		t.Errorf("events %+v", ev)
	}
}
