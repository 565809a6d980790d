package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/lvs"
)

// lvsState owns the desired IPVS table: the health checks change which destinations each
// virtual server has, and the reconciler converges the kernel to it.
type lvsState struct {
	cfg     *config.Config
	rec     *lvs.Reconciler
	updates chan lvs.Table

	mu          sync.Mutex
	dests       [][]healthcheck.Dest
	lastApplied time.Time
}

func newLVSState(cfg *config.Config, rec *lvs.Reconciler) *lvsState {
	s := &lvsState{cfg: cfg, rec: rec, updates: make(chan lvs.Table, 1)}
	s.dests = make([][]healthcheck.Dest, len(cfg.VirtualServers))
	for i, vs := range cfg.VirtualServers {
		s.dests[i] = initialDests(&vs)
	}
	s.push()
	return s
}

// initialDests is what a virtual server has before any check ran: every real server with
// its weight, or none with alpha (keepalived: alpha starts real servers down).
func initialDests(vs *config.VirtualServer) []healthcheck.Dest {
	var out []healthcheck.Dest
	for _, rs := range vs.RealServers {
		if vs.Alpha && len(rs.Checks) > 0 {
			continue
		}
		out = append(out, healthcheck.Dest{Address: rs.Addr, Weight: rs.Weight})
	}
	return out
}

// setDests replaces virtual server i's destinations and schedules a reconcile.
func (s *lvsState) setDests(i int, dests []healthcheck.Dest) {
	s.mu.Lock()
	s.dests[i] = dests
	s.mu.Unlock()
	s.push()
}

// push offers the current desired table to the reconciler; an unread older table is
// replaced, since only the latest matters.
func (s *lvsState) push() {
	s.mu.Lock()
	t := desiredTable(s.cfg.VirtualServers, s.dests)
	s.mu.Unlock()
	for {
		select {
		case s.updates <- t:
			return
		default:
			select {
			case <-s.updates:
			default:
			}
		}
	}
}

func (s *lvsState) run(ctx context.Context, interval time.Duration) error {
	return s.rec.Run(ctx, s.updates, interval)
}

// stop removes the services lvsd owns, unless the user asked to keep them.
func (s *lvsState) stop(ctx context.Context, keep bool, log *slog.Logger) {
	if keep {
		log.Info("keeping IPVS services on stop (global.keep_ipvs_on_stop)")
		return
	}
	if _, err := s.rec.RemoveOwned(ctx); err != nil {
		log.Error("remove IPVS services on stop", "err", err)
	}
}

func (s *lvsState) status() []VirtualServerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]VirtualServerStatus, 0, len(s.cfg.VirtualServers))
	for i := range s.cfg.VirtualServers {
		vs := &s.cfg.VirtualServers[i]
		vst := VirtualServerStatus{
			Name:        vs.Name,
			Protocol:    vs.Protocol.String(),
			Scheduler:   vs.LBAlgo,
			Kind:        vs.LBKind.String(),
			QuorumUp:    true,
			RealServers: []RealServerStatus{},
		}
		if vs.SorryServer != nil {
			vst.SorryServer = vs.SorryServer.String()
		}
		weights := map[string]int{}
		for _, d := range s.dests[i] {
			if d.Sorry {
				vst.SorryActive = true
				continue
			}
			weights[d.Address.String()] = d.Weight
		}
		for _, rs := range vs.RealServers {
			w, in := weights[rs.Addr.String()]
			vst.RealServers = append(vst.RealServers, RealServerStatus{
				Address: rs.Addr.String(), Weight: w, Healthy: in && (w > 0 || rs.Weight == 0),
			})
		}
		out = append(out, vst)
	}
	return out
}
