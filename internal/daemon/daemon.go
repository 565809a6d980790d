package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
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
	Config *config.Config // validated, as loaded from ConfigPath
	// ConfigPath is the --config path: SIGHUP and `lvsd reload` load it again.
	ConfigPath string
	// Loader, when set, is the one that loaded Config: reloads go through it and parse
	// only what changed since (config.Loader). nil: a new one.
	Loader *config.Loader
	// Socket, when set, overrides global.control_socket, at start and on every reload.
	Socket  string
	Version string
	Log     *slog.Logger
	// Notify tells the service manager about readiness, reloads and the stop (systemd's
	// sd_notify); nil: nobody to tell.
	Notify func(state ...string)
	// MetricsListen, when set, overrides global.metrics_listen, at start and on reload.
	MetricsListen string
	// Metrics, when set, builds the handler of /metrics on global.metrics_listen from the
	// status snapshot (the daemon does not import the metrics package; lvsd run wires it).
	Metrics func(status func() Status) http.Handler
}

// The graceful stop runs in stages, in order, each under a deadline of its own that starts
// when the stage starts: a stage that uses its whole budget (a slow notify_stop script, a
// loaded machine) cannot hand the stages after it an expired context, which would leave
// lvsd's iptables rules or IPVS services behind. The budgets add up to gracefulStopBound,
// within the 2 s in which SIGTERM must end the process (contract).
const (
	// stopBudget is the VRRP stage: every instance's priority-0 advert and VIP removal,
	// then the notify hooks their stop queued (notify_stop, the sync groups' hooks); hooks
	// still running when it ends are killed. A reload gives the instances it removes the
	// same.
	stopBudget = 1000 * time.Millisecond
	// localnodeStopBudget is the localnode stage: removing lvsd's iptables rules,
	// restoring backup_only, stopping the IPVS sync daemon.
	localnodeStopBudget = 300 * time.Millisecond
	// ipvsStopBudget is the IPVS stage: the reconciler and health checks end, then the
	// services lvsd owns are removed.
	ipvsStopBudget = 500 * time.Millisecond
	// gracefulStopBound is what the stages' budgets add up to.
	gracefulStopBound = stopBudget + localnodeStopBudget + ipvsStopBudget
)

// stopStage is one stage of the graceful stop.
type stopStage struct {
	name   string
	budget time.Duration
	run    func(ctx context.Context)
}

// runStopStages runs the stages in order, each with a context that ends budget after that
// stage starts, and logs a stage that overran its budget.
func runStopStages(stages []stopStage, log *slog.Logger) {
	for _, s := range stages {
		ctx, cancel := context.WithTimeout(context.Background(), s.budget)
		start := time.Now()
		s.run(ctx)
		if ctx.Err() != nil {
			log.Warn("stop stage used its whole time budget", "stage", s.name, "budget", s.budget, "took", time.Since(start))
		}
		cancel()
	}
}

// Daemon is lvsd at run time: New prepares it without changing the system, Run runs it
// until its context ends, and Apply changes a running daemon to a new configuration.
// Its components are keyed by identity (see config.Diff), never by position.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	started time.Time
	ln      net.Listener
	metrics *metricsEndpoint // nil: off
	reloads reloadRecord     // outcome of the reloads, for status

	applyMu sync.Mutex // one Apply (reload) at a time

	mu       sync.Mutex // guards what status and the VRRP reactions read
	cfg      *config.Config
	vrrp     map[string]*vrrpRunner // by config.InstanceID
	lvs      *lvsState              // nil until a configuration needs IPVS
	local    *localnode.Manager
	follower *lvs.SyncFollower // nil without lvs_sync_daemon
	running  bool              // Run is between start and stop: Apply may change things
	sysctls  []SysctlStatus

	closeKernel func()
	env         vrrpEnv // how instances are prepared; contexts set by Run
	vrrpWG      sync.WaitGroup
	lvsWG       sync.WaitGroup
	lvsCtx      context.Context // the LVS goroutines' context, set by Run
	fail        func(error)     // reports a component failure to Run
}

// New checks everything that can fail for a reason the user must fix (no IPVS in the
// kernel, a missing interface, no permission for raw sockets, a busy control socket) and
// prepares every part. Nothing on the system changes: no VIP, no advert, no IPVS service,
// no iptables rule.
func New(o Options) (*Daemon, error) {
	cfg := o.Config
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Notify == nil {
		o.Notify = func(...string) {}
	}
	if o.Loader == nil {
		o.Loader = new(config.Loader)
	}
	d := &Daemon{opts: o, log: o.Log, cfg: cfg, started: time.Now(), vrrp: map[string]*vrrpRunner{}}
	d.overrides(cfg)
	ok := false
	defer func() {
		if !ok {
			d.closePrepared()
		}
	}()
	if err := d.prepareLVS(cfg); err != nil {
		return nil, err
	}
	local, err := localnode.New(localnodeConfigs(cfg.Localnodes), localnode.LinuxDeps(), d.log.With("component", "localnode"))
	if err != nil {
		return nil, fmt.Errorf("localnode: %w", err)
	}
	d.local = local
	d.follower = newFollower(cfg.SyncDaemon, d.log)
	ln, err := ListenControl(cfg.Global.ControlSocket)
	if err != nil {
		return nil, err
	}
	d.ln = ln
	if d.metrics, err = openMetrics(cfg.Global.MetricsListen, o.Metrics, d.Status, d.log); err != nil {
		return nil, err
	}
	d.env = vrrpEnv{links: vrrp.NewLinkWatcher(), addrs: vrrp.NewAddresses(), garp: vrrp.NewAnnouncer(), react: d.react, log: d.log,
		ctx: context.Background(), hooksCtx: context.Background(), track: newTracking(d.log.With("component", "track"))}
	if _, err := scriptCreds(cfg); err != nil {
		return nil, err
	}
	// The instances are prepared by Run (their contexts are Run's); check their links now
	// so that a missing interface is refused before anything else happens.
	for i := range cfg.VRRPInstances {
		if err := checkInstanceLinks(&cfg.VRRPInstances[i]); err != nil {
			return nil, atPos(cfg.VRRPInstances[i].Pos, err)
		}
	}
	ok = true
	return d, nil
}

// prepareLVS checks that IPVS is there when cfg needs it and, with virtual servers, opens
// it and builds the reconciler and the health manager; nothing on the system changes.
func (d *Daemon) prepareLVS(cfg *config.Config) error {
	need := ipvsUsers(cfg)
	if need == "" {
		return nil
	}
	if len(cfg.VirtualServers) == 0 {
		// Only the sync daemon or backup_only needs IPVS: check it is there.
		if err := lvs.CheckAvailable(); err != nil {
			return fmt.Errorf("%s need IPVS: %w", need, err)
		}
		return nil
	}
	st, closeKernel, err := d.newLVS(cfg)
	if err != nil {
		return err
	}
	d.lvs, d.closeKernel = st, closeKernel
	return nil
}

// newLVS opens IPVS (which checks that it is there) and builds the desired-table state
// with its reconciler and health manager, for cfg's virtual servers.
func (d *Daemon) newLVS(cfg *config.Config) (*lvsState, func(), error) {
	kernel, closeKernel, err := openIPVS(cfg.Global.IPVSBackend)
	if errors.Is(err, lvs.ErrNoIPVS) {
		return nil, nil, fmt.Errorf("%s need IPVS: %w", ipvsUsers(cfg), err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open IPVS: %w", err)
	}
	st := newLVSState(cfg, lvs.NewReconciler(kernel, d.log.With("component", "ipvs")))
	health, err := healthcheck.NewManager(healthConfig(cfg.VirtualServers, scriptCred(cfg)), healthcheck.Options{
		Log: d.log.With("component", "healthcheck"), OnChange: st.onChange, HookCred: scriptCred(cfg),
	})
	if err != nil {
		closeKernel()
		return nil, nil, fmt.Errorf("health checks: %w", err)
	}
	st.health = health
	return st, closeKernel, nil
}

// closePrepared releases what New prepared when Run never ran.
func (d *Daemon) closePrepared() {
	if d.ln != nil {
		d.ln.Close()
	}
	d.metrics.close()
	if d.closeKernel != nil {
		d.closeKernel()
	}
}

func newFollower(sd *config.SyncDaemon, log *slog.Logger) *lvs.SyncFollower {
	if sd == nil {
		return nil
	}
	return lvs.NewSyncFollower(lvs.KernelSyncDaemons{}, sd.Interface, sd.SyncID, log.With("component", "lvs_sync_daemon"))
}

// atPos prefixes an error with the position of the block it concerns.
func atPos(p config.Pos, err error) error { return &posError{pos: p, err: err} }

type posError struct {
	pos config.Pos
	err error
}

func (e *posError) Error() string { return e.pos.String() + ": " + e.err.Error() }
func (e *posError) Unwrap() error { return e.err }

// Run starts every configured part, serves the control socket, and stops gracefully when
// ctx ends. It may be called once.
func (d *Daemon) Run(ctx context.Context) error {
	cfg, log := d.cfg, d.log
	// The first failure of a component stops the daemon; later ones are only logged.
	failed := make(chan error, 1)
	d.fail = func(err error) {
		select {
		case failed <- err:
		default:
			log.Error("component failed during stop", "err", err)
		}
	}
	defer d.closePrepared()

	// Components get their own contexts so that they stop in order, not all at once.
	vrrpCtx, stopVRRP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopVRRP()
	// Hooks outlive the instances: notify_stop is queued as an instance stops.
	hooksCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHooks()
	d.env.ctx, d.env.hooksCtx = vrrpCtx, hooksCtx
	creds, err := scriptCreds(cfg)
	if err != nil {
		return err
	}
	d.env.track.setConfig(cfg, creds, hooksCtx)
	runners, err := prepareRunners(&d.env, cfg.VRRPInstances)
	if err != nil {
		return err
	}
	d.env.track.attach(runners)
	d.mu.Lock()
	d.vrrp = runners
	d.mu.Unlock()

	// The first change to the system: localnode rules for the role we start in (BACKUP).
	// If they cannot be installed, nothing else has been touched yet.
	if err := d.local.Start(ctx); err != nil {
		for _, r := range runners {
			r.close()
		}
		return fmt.Errorf("localnode: %w", err)
	}

	// LVS: sysctls, then the reconciler converging the kernel to the desired table.
	lvsCtx, stopLVS := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLVS()
	d.lvsCtx = lvsCtx
	if d.lvs != nil {
		d.applySysctls()
		d.startLVS()
	}
	d.env.track.start(vrrpCtx)
	for _, r := range runners {
		r.start(&d.vrrpWG, d.fail)
	}

	ctlCtx, stopCtl := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCtl()
	var ctlWG sync.WaitGroup
	ctlWG.Add(1)
	go func() {
		defer ctlWG.Done()
		if err := ServeControl(ctlCtx, d.ln, d, log); err != nil {
			d.fail(fmt.Errorf("control socket: %w", err))
		}
	}()
	ctlWG.Add(1)
	go func() {
		defer ctlWG.Done()
		if err := d.metrics.serve(ctlCtx); err != nil {
			d.fail(fmt.Errorf("metrics endpoint: %w", err))
		}
	}()
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()
	log.Info("running", "control_socket", cfg.Global.ControlSocket, "vrrp_instances", len(runners),
		"virtual_servers", len(cfg.VirtualServers))
	d.opts.Notify("READY=1", "STATUS=running")

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "cause", context.Cause(ctx))
	case runErr = <-failed:
		log.Error("stopping after a failure", "err", runErr)
	}
	d.opts.Notify("STOPPING=1")

	// No reload from here on; one under way finishes first.
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	d.mu.Lock()
	d.running = false
	runners = d.vrrp
	cfg = d.cfg
	d.mu.Unlock()

	// Graceful stop, in order: VRRP (priority-0 advert, VIPs removed, notify_stop), then
	// localnode's rules, then the IPVS services lvsd owns, then the control socket.
	runStopStages([]stopStage{
		{name: "vrrp", budget: stopBudget, run: func(ctx context.Context) {
			stopVRRP()
			d.vrrpWG.Wait()
			d.env.track.stop(ctx)
			for _, r := range runners {
				if err := r.queue.Close(ctx); err != nil {
					log.Warn("notify scripts still running at stop were killed", "err", err)
				}
			}
		}},
		// The instances told localnode and the sync daemon they stopped (INIT); now remove
		// lvsd's rules and daemons altogether.
		{name: "localnode", budget: localnodeStopBudget, run: func(ctx context.Context) {
			if err := d.local.Stop(ctx); err != nil {
				log.Error("remove localnode rules on stop", "err", err)
			}
			if d.follower != nil {
				if err := d.follower.Stop(); err != nil {
					log.Error("stop IPVS sync daemon", "err", err)
				}
			}
		}},
		{name: "ipvs", budget: ipvsStopBudget, run: func(ctx context.Context) {
			stopLVS()
			d.lvsWG.Wait()
			if d.lvs != nil {
				d.lvs.stop(ctx, cfg.Global.KeepIPVSOnStop, log)
			}
		}},
	}, log)
	stopCtl()
	ctlWG.Wait()
	return runErr
}

// startLVS runs the health checks and the reconciler under Run's LVS context.
func (d *Daemon) startLVS() {
	st, ctx := d.lvs, d.lvsCtx
	d.lvsWG.Add(2)
	go func() {
		defer d.lvsWG.Done()
		if err := st.health.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.fail(fmt.Errorf("health checks: %w", err))
		}
	}()
	go func() {
		defer d.lvsWG.Done()
		if err := st.run(ctx, d.cfg.Global.ReconcileInterval, d.log); err != nil && !errors.Is(err, context.Canceled) {
			d.fail(fmt.Errorf("IPVS reconciler: %w", err))
		}
	}()
}

// Status is the daemon's view for the control socket.
func (d *Daemon) Status() Status {
	d.mu.Lock()
	cfg, runners, st := d.cfg, d.vrrp, d.lvs
	sysctls := slices.Clone(d.sysctls)
	d.mu.Unlock()
	out := Status{
		RouterID:       cfg.Global.RouterID,
		Version:        d.opts.Version,
		StartedAt:      d.started,
		VRRP:           []VRRPStatus{},
		VirtualServers: []VirtualServerStatus{},
		Sysctls:        sysctls,
		Config:         d.reloads.status(d.started),
	}
	// Instances in configuration order.
	for i := range cfg.VRRPInstances {
		if r := runners[config.InstanceID(&cfg.VRRPInstances[i])]; r != nil {
			out.VRRP = append(out.VRRP, vrrpStatus(r.inst.Status()))
		}
	}
	if st != nil {
		out.VirtualServers = st.status()
		CountRealServers(out.VirtualServers)
		r := st.rec.Status()
		out.IPVS = &IPVSStatus{Backend: cfg.Global.IPVSBackend, LastReconcile: r.Last, Took: r.Took, Ops: r.Ops,
			Failed: r.Failed, Error: r.Err, Owned: r.Owned, Applied: r.Applied}
		d.addKernelCounters(st, &out)
	}
	if d.local != nil {
		for _, l := range d.local.Status() {
			out.Localnodes = append(out.Localnodes, LocalnodeStatus{Name: l.Name, Mode: l.Mode, Role: l.Role, Installed: l.Installed, Error: l.Error})
		}
	}
	d.env.track.statusInto(&out)
	return out
}

// applySysctls sets the director's kernel settings for the forwarding methods in use, in
// this network namespace, and keeps the outcome for status. A failure is logged, not
// fatal: the user may have set it already some other way, and status shows it.
func (d *Daemon) applySysctls() {
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
	d.sysctls = d.sysctls[:0]
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

// react is what a VRRP transition changes besides the user's hooks, in the order of the
// architecture: localnode rules for the new role first, then the IPVS sync daemon's role
// (it follows the instance named in lvs_sync_daemon). instance is the instance's current
// name: a reload may rename it.
func (d *Daemon) react(instance string, state vrrp.State) {
	d.mu.Lock()
	local, follower, sd := d.local, d.follower, d.cfg.SyncDaemon
	d.mu.Unlock()
	r := roleOf(state)
	local.OnRole(instance, r.localnode())
	if follower != nil && sd != nil && sd.VRRPInstance == instance {
		follower.OnRole(r.sync())
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
