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
// virtual server has, and the reconciler converges the kernel to it. Virtual servers are
// keyed by identity (config.ServiceID), which is also their name in the health manager.
type lvsState struct {
	rec     *lvs.Reconciler
	updates chan lvs.Table
	kick    chan struct{} // see push
	health  *healthcheck.Manager

	ownedFile string    // see owned.go
	saved     []lvs.Key // what ownedFile holds; used by run's goroutine, then by stop

	mu    sync.Mutex
	vss   []config.VirtualServer        // the configured virtual servers, in config order
	dests map[string][]healthcheck.Dest // by config.ServiceID
}

func newLVSState(cfg *config.Config, rec *lvs.Reconciler) *lvsState {
	s := &lvsState{rec: rec, updates: make(chan lvs.Table, 1), kick: make(chan struct{}, 1), ownedFile: ownedPath(cfg.Global.ControlSocket),
		dests: map[string][]healthcheck.Dest{}}
	s.vss = cfg.VirtualServers
	return s
}

// onChange is the health manager's callback: a virtual server's destinations changed.
func (s *lvsState) onChange(id string, dests []healthcheck.Dest) {
	s.mu.Lock()
	s.dests[id] = dests
	s.mu.Unlock()
	s.push()
}

// setConfig makes vss the configured virtual servers (a reload): the destinations of the
// ones that stay are kept until the health manager says otherwise. It does not push: the
// caller pushes once the health manager has applied the same change.
func (s *lvsState) setConfig(vss []config.VirtualServer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := map[string]bool{}
	for i := range vss {
		keep[config.ServiceID(&vss[i])] = true
	}
	for id := range s.dests {
		if !keep[id] {
			delete(s.dests, id)
		}
	}
	s.vss = vss
}

// push marks the desired table changed. The table is built by feed, once for all the
// pushes that came while the reconciler was busy: at start the health manager reports
// every virtual server in turn, and building the whole table for each of them would cost
// O(services x real servers).
func (s *lvsState) push() {
	select {
	case s.kick <- struct{}{}:
	default: // a build is already pending
	}
}

// feed builds the desired table after a push and hands it to the reconciler, waiting while
// the reconciler still has an unread one: builds follow the reconciler's pace, and the
// push that comes last is always followed by a build. It ends with ctx.
func (s *lvsState) feed(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		s.mu.Lock()
		t := desiredTable(s.vss, s.dests)
		s.mu.Unlock()
		select {
		case s.updates <- t:
		case <-ctx.Done():
			return
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
	go s.feed(ctx) // ends with ctx, as Run does
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
	health := map[string]healthcheck.VirtualServerStatus{}
	if s.health != nil {
		for _, h := range s.health.Status() {
			health[h.Name] = h
		}
	}
	s.mu.Lock()
	vss := s.vss
	s.mu.Unlock()
	out := make([]VirtualServerStatus, 0, len(vss))
	for i := range vss {
		vs := &vss[i]
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
		if h, ok := health[config.ServiceID(vs)]; ok {
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
