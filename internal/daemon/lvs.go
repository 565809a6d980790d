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

	index  map[string]int // virtual server name -> index in cfg.VirtualServers
	health *healthcheck.Manager

	ownedFile string    // see owned.go
	saved     []lvs.Key // what ownedFile holds; used by run's goroutine, then by stop

	mu    sync.Mutex
	dests [][]healthcheck.Dest
}

func newLVSState(cfg *config.Config, rec *lvs.Reconciler) *lvsState {
	s := &lvsState{cfg: cfg, rec: rec, updates: make(chan lvs.Table, 1), ownedFile: ownedPath(cfg.Global.ControlSocket)}
	s.dests = make([][]healthcheck.Dest, len(cfg.VirtualServers))
	s.index = make(map[string]int, len(cfg.VirtualServers))
	for i, vs := range cfg.VirtualServers {
		s.index[vs.Name] = i
	}
	return s
}

// onChange is the health manager's callback: a virtual server's destinations changed.
func (s *lvsState) onChange(vs string, dests []healthcheck.Dest) {
	if i, ok := s.index[vs]; ok {
		s.setDests(i, dests)
	}
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

// run converges the kernel until ctx ends, and keeps the owned-services file current.
func (s *lvsState) run(ctx context.Context, interval time.Duration, log *slog.Logger) error {
	if keys, err := loadOwned(s.ownedFile); err != nil {
		log.Warn("previous run's IPVS services unknown; only configured ones are owned", "err", err)
	} else if len(keys) > 0 {
		s.saved = keys
		s.rec.Adopt(keys)
		log.Info("adopted the IPVS services a previous run owned", "count", len(keys), "file", s.ownedFile)
	}
	done := make(chan error, 1)
	go func() { done <- s.rec.Run(ctx, s.updates, interval) }()
	if interval <= 0 {
		interval = lvs.DefaultInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			s.persistOwned(log)
			return err
		case <-tick.C:
			s.persistOwned(log)
		}
	}
}

func (s *lvsState) persistOwned(log *slog.Logger) {
	keys := s.rec.Owned()
	if sameKeys(keys, s.saved) {
		return
	}
	if err := saveOwned(s.ownedFile, keys); err != nil {
		log.Warn("remember owned IPVS services", "err", err)
		return
	}
	s.saved = keys
}

// stop removes the services lvsd owns, unless the user asked to keep them.
func (s *lvsState) stop(ctx context.Context, keep bool, log *slog.Logger) {
	if keep {
		log.Info("keeping IPVS services on stop (global.keep_ipvs_on_stop)")
		s.persistOwned(log) // the next run adopts them
		return
	}
	if _, err := s.rec.RemoveOwned(ctx); err != nil {
		log.Error("remove IPVS services on stop", "err", err)
	}
	s.persistOwned(log)
}

func (s *lvsState) status() []VirtualServerStatus {
	var hs []healthcheck.VirtualServerStatus
	if s.health != nil {
		hs = s.health.Status()
	}
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
			FWMark:      vs.FWMark,
		}
		if !vs.IsFWMark() {
			vst.Address, vst.Port = vs.Addr.Addr().String(), int(vs.Addr.Port())
		}
		if vs.SorryServer != nil {
			vst.SorryServer = vs.SorryServer.String()
		}
		if i < len(hs) {
			h := hs[i]
			vst.QuorumUp, vst.SorryActive = h.QuorumUp, h.SorryActive
			inKernel := map[string]int{}
			for _, d := range h.Dests {
				inKernel[d.Address.String()] = d.Weight
			}
			for _, rs := range h.RealServers {
				w := inKernel[rs.Address.String()] // 0 when removed or inhibited
				vst.RealServers = append(vst.RealServers, RealServerStatus{
					Address: rs.Address.String(), Weight: w, Healthy: rs.Healthy,
					LastCheck: rs.LastCheck, LastResult: rs.LastWhy, Latency: rs.LastLatency, Failures: rs.Failures,
					CheckDurations: rs.Durations,
				})
			}
		}
		out = append(out, vst)
	}
	return out
}
