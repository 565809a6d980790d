package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/localnode"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/vrrp"
)

// Options are what `lvsd run` hands the daemon.
type Options struct {
	Config  *config.Config // validated
	Version string
	Log     *slog.Logger
	// Metrics, when set, builds the handler of /metrics on global.metrics_listen from the
	// status snapshot (the daemon does not import the metrics package; lvsd run wires it).
	Metrics func(status func() Status) http.Handler
}

// stopBudget bounds the graceful stop: VRRP's priority-0 adverts and VIP removal first,
// then IPVS. SIGTERM must end the process within 2 s (contract), so each stage gets a
// share of that.
const stopBudget = 1500 * time.Millisecond

// Run starts every configured part, serves the control socket, and stops gracefully when
// ctx ends. Everything that can fail for a reason the user must fix (no IPVS in the
// kernel, a missing interface, no permission for raw sockets, a busy control socket) is
// checked before anything on the system changes.
func Run(ctx context.Context, o Options) error {
	cfg, log := o.Config, o.Log
	d := &daemon{cfg: cfg, log: log, version: o.Version, started: time.Now()}

	// Preflight: nothing below changes the system.
	need := ipvsUsers(cfg)
	if len(cfg.VirtualServers) == 0 && need != "" {
		if err := lvs.CheckAvailable(); err != nil {
			return fmt.Errorf("%s need IPVS: %w", need, err)
		}
	}
	if len(cfg.VirtualServers) > 0 {
		kernel, closeKernel, err := openIPVS(cfg.Global.IPVSBackend) // checks that IPVS is there
		if errors.Is(err, lvs.ErrNoIPVS) {
			return fmt.Errorf("%s need IPVS: %w", need, err)
		}
		if err != nil {
			return fmt.Errorf("open IPVS: %w", err)
		}
		defer closeKernel()
		d.lvs = newLVSState(cfg, lvs.NewReconciler(kernel, log.With("component", "ipvs")))
		health, err := healthcheck.NewManager(healthConfig(cfg.VirtualServers), healthcheck.Options{
			Log: log.With("component", "healthcheck"), OnChange: d.lvs.onChange,
		})
		if err != nil {
			return fmt.Errorf("health checks: %w", err)
		}
		d.lvs.health = health
	}
	local, err := localnode.New(cfg.Localnodes, localnode.LinuxDeps(), log.With("component", "localnode"))
	if err != nil {
		return fmt.Errorf("localnode: %w", err)
	}
	d.local = local
	var follower *lvs.SyncFollower
	if sd := cfg.SyncDaemon; sd != nil {
		follower = lvs.NewSyncFollower(lvs.KernelSyncDaemons{}, sd.Interface, sd.SyncID, log.With("component", "lvs_sync_daemon"))
	}
	ln, err := ListenControl(cfg.Global.ControlSocket)
	if err != nil {
		return err
	}
	defer ln.Close()
	metrics, err := openMetrics(cfg.Global.MetricsListen, o.Metrics, d.status, log)
	if err != nil {
		return err
	}
	defer metrics.close()

	// Components get their own contexts so that they stop in order, not all at once.
	vrrpCtx, stopVRRP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopVRRP()
	// Hooks outlive the instances: notify_stop is queued as an instance stops.
	hooksCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHooks()
	runners, err := newVRRP(vrrpCtx, hooksCtx, cfg, vrrp.NewLinkWatcher(), vrrp.NewAddresses(), vrrp.NewAnnouncer(),
		reactions(local, cfg.SyncDaemon, follower), log)
	if err != nil {
		return err
	}
	d.vrrp = runners

	// The first change to the system: localnode rules for the role we start in (BACKUP).
	// If they cannot be installed, nothing else has been touched yet.
	if err := local.Start(ctx); err != nil {
		for _, r := range runners {
			r.close()
		}
		return fmt.Errorf("localnode: %w", err)
	}

	// The first failure of a component stops the daemon; later ones are only logged.
	failed := make(chan error, 1)
	fail := func(err error) {
		select {
		case failed <- err:
		default:
			log.Error("component failed during stop", "err", err)
		}
	}
	var lvsWG, vrrpWG, ctlWG sync.WaitGroup

	// LVS: sysctls, then the reconciler converging the kernel to the desired table.
	lvsCtx, stopLVS := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLVS()
	if d.lvs != nil {
		d.applySysctls()
		lvsWG.Add(2)
		go func() {
			defer lvsWG.Done()
			if err := d.lvs.health.Run(lvsCtx); err != nil && !errors.Is(err, context.Canceled) {
				fail(fmt.Errorf("health checks: %w", err))
			}
		}()
		go func() {
			defer lvsWG.Done()
			if err := d.lvs.run(lvsCtx, cfg.Global.ReconcileInterval, log); err != nil && !errors.Is(err, context.Canceled) {
				fail(fmt.Errorf("IPVS reconciler: %w", err))
			}
		}()
	}

	for _, r := range runners {
		vrrpWG.Add(1)
		go func() {
			defer vrrpWG.Done()
			if err := r.inst.Run(vrrpCtx); err != nil {
				fail(err)
			}
		}()
	}

	ctlCtx, stopCtl := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCtl()
	ctlWG.Add(1)
	go func() {
		defer ctlWG.Done()
		if err := ServeControl(ctlCtx, ln, d.status, log); err != nil {
			fail(fmt.Errorf("control socket: %w", err))
		}
	}()
	ctlWG.Add(1)
	go func() {
		defer ctlWG.Done()
		if err := metrics.serve(ctlCtx); err != nil {
			fail(fmt.Errorf("metrics endpoint: %w", err))
		}
	}()
	log.Info("running", "control_socket", cfg.Global.ControlSocket, "vrrp_instances", len(runners),
		"virtual_servers", len(cfg.VirtualServers))

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "cause", context.Cause(ctx))
	case runErr = <-failed:
		log.Error("stopping after a failure", "err", runErr)
	}

	// Graceful stop, in order: VRRP (priority-0 advert, VIPs removed, notify_stop), then the
	// IPVS services lvsd owns, then the control socket.
	deadline, cancel := context.WithTimeout(context.Background(), stopBudget)
	defer cancel()
	stopVRRP()
	vrrpWG.Wait()
	for _, r := range runners {
		if err := r.queue.Close(deadline); err != nil {
			log.Warn("notify scripts still running at stop were killed", "err", err)
		}
	}
	// The instances told localnode and the sync daemon they stopped (INIT); now remove
	// lvsd's rules and daemons altogether.
	if err := local.Stop(deadline); err != nil {
		log.Error("remove localnode rules on stop", "err", err)
	}
	if follower != nil {
		if err := follower.Stop(); err != nil {
			log.Error("stop IPVS sync daemon", "err", err)
		}
	}
	stopLVS()
	lvsWG.Wait()
	if d.lvs != nil {
		d.lvs.stop(deadline, cfg.Global.KeepIPVSOnStop, log)
	}
	stopCtl()
	ctlWG.Wait()
	return runErr
}

// daemon holds the running parts for status reporting.
type daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	version string
	started time.Time
	vrrp    []*vrrpRunner
	lvs     *lvsState
	local   *localnode.Manager

	mu      sync.Mutex
	sysctls []SysctlStatus
}

func (d *daemon) status() Status {
	st := Status{
		RouterID:       d.cfg.Global.RouterID,
		Version:        d.version,
		StartedAt:      d.started,
		VRRP:           []VRRPStatus{},
		VirtualServers: []VirtualServerStatus{},
	}
	for _, r := range d.vrrp {
		st.VRRP = append(st.VRRP, vrrpStatus(r.inst.Status()))
	}
	if d.lvs != nil {
		st.VirtualServers = d.lvs.status()
		r := d.lvs.rec.Status()
		st.IPVS = &IPVSStatus{Backend: d.cfg.Global.IPVSBackend, LastReconcile: r.Last, Took: r.Took, Ops: r.Ops,
			Failed: r.Failed, Error: r.Err, Owned: r.Owned, Applied: r.Applied}
		d.addKernelCounters(&st)
	}
	if d.local != nil {
		for _, l := range d.local.Status() {
			st.Localnodes = append(st.Localnodes, LocalnodeStatus{Name: l.Name, Mode: l.Mode, Role: l.Role, Installed: l.Installed, Error: l.Error})
		}
	}
	d.mu.Lock()
	st.Sysctls = append(st.Sysctls, d.sysctls...)
	d.mu.Unlock()
	return st
}

// applySysctls sets the director's kernel settings for the forwarding methods in use, in
// this network namespace, and keeps the outcome for status. A failure is logged, not
// fatal: the user may have set it already some other way, and status shows it.
func (d *daemon) applySysctls() {
	var ifaces []string
	for _, in := range d.cfg.VRRPInstances {
		ifaces = append(ifaces, in.Interface)
		for _, v := range in.VIPs {
			ifaces = append(ifaces, v.Dev)
		}
	}
	ifaces = existingInterfaces(ifaces)
	res := lvs.ApplySysctls(lvs.ProcSys{}, lvs.DirectorSysctls(forwardingKinds(d.cfg.VirtualServers), ifaces))
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range res {
		s := SysctlStatus{Key: r.Key, Value: r.Value, Reason: r.Reason}
		if r.Err != nil {
			s.Error = r.Err.Error()
			d.log.Warn("director sysctl not applied", "key", r.Key, "value", r.Value, "reason", r.Reason, "err", r.Err)
		} else {
			d.log.Info("director sysctl applied", "key", r.Key, "value", r.Value, "reason", r.Reason)
		}
		d.sysctls = append(d.sysctls, s)
	}
}

func existingInterfaces(names []string) []string {
	var out []string
	for _, n := range names {
		if _, err := net.InterfaceByName(n); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// ipvsUsers names the configured parts that need IPVS in the kernel ("" when none does).
func ipvsUsers(cfg *config.Config) string {
	var users []string
	if len(cfg.VirtualServers) > 0 {
		users = append(users, "virtual_server blocks")
	}
	if cfg.SyncDaemon != nil {
		users = append(users, "lvs_sync_daemon")
	}
	for _, l := range cfg.Localnodes {
		if l.Mode == config.ModeBackupOnly {
			users = append(users, "localnode mode backup_only")
			break
		}
	}
	return strings.Join(users, " and ")
}

// reactions are what a VRRP transition changes besides the user's hooks, in the order of
// the architecture: localnode rules for the new role first, then the IPVS sync daemon's
// role (it follows the instance named in lvs_sync_daemon).
func reactions(local *localnode.Manager, sd *config.SyncDaemon, follower *lvs.SyncFollower) func(string) []func(vrrp.State) {
	return func(name string) []func(vrrp.State) {
		fs := []func(vrrp.State){func(s vrrp.State) { local.OnState(name, s) }}
		if sd != nil && follower != nil && sd.VRRPInstance == name {
			fs = append(fs, follower.OnState)
		}
		return fs
	}
}

// openIPVS opens the configured IPVS backend (config.IPVSBackends).
func openIPVS(backend string) (lvs.Kernel, func(), error) {
	if backend == "moby" {
		k, err := lvs.OpenMobyIPVS()
		if err != nil {
			return nil, nil, err
		}
		return k, k.Close, nil
	}
	k, err := lvs.OpenIPVS()
	if err != nil {
		return nil, nil, err
	}
	return k, k.Close, nil
}
