package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/sdnotify"
	"github.com/lvsd/lvsd/localnode"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/vrrp"
)

// A reload is config.Diff applied kind by kind, each engine changing only what differs.
// Everything that can fail (interfaces, raw sockets, IPVS, checker definitions, iptables)
// is checked and acquired before the first change, so a reload that fails changes
// nothing. Reloads are serialised (applyMu).

// ErrNotRunning is returned by Apply outside Run.
var ErrNotRunning = errors.New("lvsd is not running (starting or stopping): nothing applied")

// Reload loads the configuration the daemon was started with again and applies it. Its
// result lists the changes applied, or every problem (nothing applied).
func (d *Daemon) Reload(ctx context.Context) Result {
	d.opts.Notify("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(sdnotify.MonotonicMicros(), 10))
	defer d.opts.Notify("READY=1")
	res := d.reload(ctx)
	d.reloads.record(len(res.Problems) == 0, time.Now())
	if len(res.Problems) > 0 {
		d.log.Error("reload failed: running configuration unchanged", "config", d.opts.ConfigPath, "problems", len(res.Problems))
		for _, p := range res.Problems {
			d.log.Error("reload problem", "problem", p)
		}
		return res
	}
	if len(res.Changes) == 0 {
		d.log.Info("reload: no change", "config", d.opts.ConfigPath)
	}
	for _, c := range res.Changes {
		d.log.Info("reload applied", "change", c.String())
	}
	return res
}

func (d *Daemon) reload(ctx context.Context) Result {
	if d.opts.ConfigPath == "" {
		return Result{Problems: []string{"lvsd was started without a configuration path: nothing to reload"}}
	}
	cfg, res := loadForReload(d.opts.Loader, d.opts.ConfigPath)
	if cfg == nil {
		return res
	}
	plan, err := d.Apply(ctx, cfg)
	res.Changes = plan.Changes
	if err != nil {
		res.Changes = nil
		res.Problems = problems(err)
		return res
	}
	res.Applied = true
	return res
}

// Plan says what reloading the configuration at path would change, and whether it could
// be applied; it changes nothing.
func (d *Daemon) Plan(_ context.Context, path string) Result {
	if !filepath.IsAbs(path) {
		return Result{Problems: []string{path + ": the path must be absolute (the daemon has its own working directory)"}}
	}
	loader := new(config.Loader) // another file: keep the daemon's loader for its own
	if path == d.opts.ConfigPath {
		loader = d.opts.Loader
	}
	cfg, res := loadForReload(loader, path)
	if cfg == nil {
		return res
	}
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	d.overrides(cfg)
	plan := config.Diff(d.cfg, cfg)
	res.Changes = plan.Changes
	if diags := d.check(cfg, plan); len(diags) > 0 {
		res.Problems = problems(diags)
	}
	return res
}

// loadForReload loads path through loader; on failure the Result carries the diagnostics.
func loadForReload(loader *config.Loader, path string) (*config.Config, Result) {
	var res Result
	cfg, err := loader.Load(path)
	if err != nil {
		res.Problems = problems(err)
		return nil, res
	}
	for _, w := range cfg.Warnings {
		res.Warnings = append(res.Warnings, w.String())
	}
	return cfg, res
}

// problems renders an error as FILE:LINE:COL: lines.
func problems(err error) []string {
	var diags config.Diagnostics
	if errors.As(err, &diags) {
		out := make([]string, len(diags))
		for i, d := range diags {
			out[i] = d.String()
		}
		return out
	}
	return []string{err.Error()}
}

// overrides applies what the command line set over the configuration.
func (d *Daemon) overrides(cfg *config.Config) {
	if d.opts.Socket != "" {
		cfg.Global.ControlSocket = d.opts.Socket
	}
	if d.opts.MetricsListen != "" {
		cfg.Global.MetricsListen = d.opts.MetricsListen
	}
}

// diagAt is a problem at the position of a block.
func diagAt(p config.Pos, err error) config.Diagnostic {
	return config.Diagnostic{File: p.File, Line: p.Line, Col: p.Col, Message: err.Error()}
}

// check finds what would make cfg fail to apply on this running daemon, without changing
// or acquiring anything.
func (d *Daemon) check(cfg *config.Config, plan config.Plan) config.Diagnostics {
	var diags config.Diagnostics
	cur := d.cfg
	pos := cfg.Global.Pos
	if pos.File == "" && len(cfg.Files) > 0 {
		pos.File = cfg.Files[0]
	}
	if cfg.Global.ControlSocket != cur.Global.ControlSocket {
		diags = append(diags, diagAt(pos, fmt.Errorf("control_socket cannot change while lvsd runs (%s -> %s): restart lvsd to move it",
			cur.Global.ControlSocket, cfg.Global.ControlSocket)))
	}
	if cfg.Global.MetricsListen != cur.Global.MetricsListen {
		diags = append(diags, diagAt(pos, fmt.Errorf("metrics_listen cannot change while lvsd runs (%q -> %q): restart lvsd",
			cur.Global.MetricsListen, cfg.Global.MetricsListen)))
	}
	if d.lvs != nil && cfg.Global.IPVSBackend != cur.Global.IPVSBackend {
		diags = append(diags, diagAt(pos, fmt.Errorf("ipvs_backend cannot change while lvsd runs (%s -> %s): restart lvsd to switch",
			cur.Global.IPVSBackend, cfg.Global.IPVSBackend)))
	}
	for _, c := range plan.Of(config.KindVRRPInstance) {
		if c.Op == config.OpRemove || (c.Op == config.OpChange && !c.Restart) {
			continue
		}
		if in := instanceByID(cfg, c.ID); in != nil {
			if err := checkInstanceLinks(in); err != nil {
				diags = append(diags, diagAt(in.Pos, err))
			}
		}
	}
	diags = append(diags, ownAddressDiags(cfg)...)
	if _, err := healthcheck.NewManager(healthConfig(touchedServices(cfg, plan), scriptCred(cfg)), healthcheck.Options{}); err != nil {
		diags = append(diags, diagAt(pos, fmt.Errorf("health checks: %w", err)))
	}
	if d.lvs == nil {
		if need := ipvsUsers(cfg); need != "" {
			if err := lvs.CheckAvailable(); err != nil {
				diags = append(diags, diagAt(pos, fmt.Errorf("%s need IPVS: %w", need, err)))
			}
		}
	}
	if _, err := localnode.New(localnodeConfigs(cfg.Localnodes), localnode.LinuxDeps(), nil); err != nil {
		diags = append(diags, diagAt(pos, fmt.Errorf("localnode: %w", err)))
	}
	diags.Sort()
	return diags
}

// touchedServices are the virtual servers of cfg that plan adds or changes (their own
// settings, real servers or checkers): the others were checked when they were applied.
func touchedServices(cfg *config.Config, plan config.Plan) []config.VirtualServer {
	ids := map[string]bool{}
	for _, c := range plan.Changes {
		switch c.Kind {
		case config.KindVirtualServer:
			ids[c.ID] = true
		case config.KindRealServer, config.KindChecks:
			ids[c.Parent] = true
		}
	}
	var out []config.VirtualServer
	for i := range cfg.VirtualServers {
		if ids[config.ServiceID(&cfg.VirtualServers[i])] {
			out = append(out, cfg.VirtualServers[i])
		}
	}
	return out
}

func instanceByID(cfg *config.Config, id string) *config.VRRPInstance {
	for i := range cfg.VRRPInstances {
		if config.InstanceID(&cfg.VRRPInstances[i]) == id {
			return &cfg.VRRPInstances[i]
		}
	}
	return nil
}

// Apply makes cfg the running configuration, changing only what differs from the current
// one (see config.Diff), and returns the changes. When it fails (the error lists every
// problem, with positions where they have one) nothing has changed.
func (d *Daemon) Apply(ctx context.Context, cfg *config.Config) (config.Plan, error) {
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	d.mu.Lock()
	running := d.running
	d.mu.Unlock()
	if !running {
		return config.Plan{}, ErrNotRunning
	}
	d.overrides(cfg)
	plan := config.Diff(d.cfg, cfg)
	if diags := d.check(cfg, plan); len(diags) > 0 {
		return plan, diags
	}
	creds, err := scriptCreds(cfg)
	if err != nil {
		return plan, config.Diagnostics{diagAt(cfg.Global.Pos, err)}
	}
	// Tracking follows the new configuration first: instances prepared or reconfigured
	// below take their tracked items and sync group from it.
	d.env.track.setConfig(cfg, creds, d.env.hooksCtx)

	// Acquire what the new parts need: raw sockets of new and restarted instances, IPVS.
	prepared := map[string]*vrrpRunner{}
	release := func() {
		for _, r := range prepared {
			r.close()
		}
	}
	for _, c := range plan.Of(config.KindVRRPInstance) {
		if c.Op == config.OpAdd || c.Restart {
			in := instanceByID(cfg, c.ID)
			r, err := prepareRunner(&d.env, in)
			if err != nil {
				release()
				return plan, config.Diagnostics{diagAt(in.Pos, err)}
			}
			prepared[c.ID] = r
		}
	}
	var newLVS *lvsState
	if d.lvs == nil && len(cfg.VirtualServers) > 0 {
		st, closeKernel, err := d.newLVS(cfg)
		if err != nil {
			release()
			return plan, err
		}
		newLVS, d.closeKernel = st, closeKernel
	}

	// Commit, engine by engine, in the order of a start: VRRP, LVS, localnode, sync.
	var errs []error
	d.applyVRRP(ctx, cfg, plan, prepared)
	d.mu.Lock()
	runners := d.vrrp
	d.mu.Unlock()
	d.env.track.attach(runners)
	if newLVS != nil {
		d.mu.Lock()
		d.lvs = newLVS
		d.mu.Unlock()
		d.startLVS()
	} else if d.lvs != nil {
		d.lvs.setConfig(cfg.VirtualServers)
		d.lvs.health.SetHookCred(scriptCred(cfg))
		if err := d.lvs.health.Apply(healthConfig(cfg.VirtualServers, scriptCred(cfg))); err != nil {
			errs = append(errs, fmt.Errorf("health checks: %w", err))
		}
		d.lvs.push()
	}
	if len(plan.Of(config.KindVirtualServer)) > 0 && d.lvs != nil {
		d.applySysctls()
	}
	if d.lvs != nil && cfg.Global.ReconcileInterval != d.cfg.Global.ReconcileInterval {
		d.lvs.rec.SetInterval(cfg.Global.ReconcileInterval)
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	if len(plan.Of(config.KindLocalnode)) > 0 {
		if err := d.local.Apply(localnodeConfigs(cfg.Localnodes), d.localRole); err != nil {
			errs = append(errs, fmt.Errorf("localnode: %w", err))
		}
	}
	d.applySync(cfg, plan)
	return plan, errors.Join(errs...)
}

// applyVRRP stops removed instances, reconfigures changed ones in place, and starts the
// new and restarted ones (prepared).
func (d *Daemon) applyVRRP(ctx context.Context, cfg *config.Config, plan config.Plan, prepared map[string]*vrrpRunner) {
	d.mu.Lock()
	runners := d.vrrp
	d.mu.Unlock()
	next := make(map[string]*vrrpRunner, len(cfg.VRRPInstances))
	for id, r := range runners {
		next[id] = r
	}
	stop, cancel := context.WithTimeout(context.Background(), stopBudget)
	defer cancel()
	// A VIP may move from one instance to another in one reload. Instances give up VIPs
	// before any takes one over: stopped instances first, then every changed instance as
	// configured except that VIPs another instance carried are left out, then the instances
	// taking those over get them, then the new instances start. Otherwise the losing
	// instance could delete an address the gaining one had just added.
	var changed []config.Change
	for _, c := range plan.Of(config.KindVRRPInstance) {
		switch {
		case c.Op == config.OpRemove || c.Restart:
			runners[c.ID].stop(stop, d.log)
			delete(next, c.ID)
			d.log.Info("VRRP instance stopped", "instance", c.Name, "cause", "reload: "+string(c.Op))
		case c.Op == config.OpChange:
			changed = append(changed, c)
		}
	}
	reconfigure := func(c config.Change, in *config.VRRPInstance) {
		r := runners[c.ID]
		icfg := instanceConfig(in, r.primary)
		d.env.track.configure(&icfg, in)
		if err := r.inst.Reconfigure(ctx, icfg); err != nil {
			// Checked before: cannot happen short of a stopping daemon.
			d.log.Error("reconfigure VRRP instance", "instance", in.Name, "err", err)
		}
	}
	var takers []config.Change
	for _, c := range changed {
		in := instanceByID(cfg, c.ID)
		if without := withoutMovedVIPs(d.cfg, c.ID, in); without != nil {
			in = without
			takers = append(takers, c)
		}
		reconfigure(c, in)
	}
	for _, c := range takers {
		reconfigure(c, instanceByID(cfg, c.ID))
	}
	for id, r := range prepared {
		next[id] = r
		r.start(&d.vrrpWG, d.fail)
	}
	// Hooks and the instance's own reactions follow the new configuration (scripts may
	// have changed, VIPs that accept_mode rules name, blocks moved).
	for i := range cfg.VRRPInstances {
		in := &cfg.VRRPInstances[i]
		if r := next[config.InstanceID(in)]; r != nil && prepared[config.InstanceID(in)] == nil {
			r.notifier.set(in, d.log.With("instance", in.Name))
			r.queue.RunAs(d.env.track.hookCred())
		}
	}
	d.mu.Lock()
	d.vrrp = next
	d.mu.Unlock()
}

// withoutMovedVIPs is in (instance id) without the VIPs that another instance of old
// carried, or nil when there is none.
func withoutMovedVIPs(old *config.Config, id string, in *config.VRRPInstance) *config.VRRPInstance {
	elsewhere := map[netip.Addr]bool{}
	for i := range old.VRRPInstances {
		if o := &old.VRRPInstances[i]; config.InstanceID(o) != id {
			for _, v := range o.VIPs {
				elsewhere[v.Prefix.Addr()] = true
			}
		}
	}
	out := *in
	out.VIPs = slices.DeleteFunc(slices.Clone(in.VIPs), func(v config.VIP) bool { return elsewhere[v.Prefix.Addr()] })
	if len(out.VIPs) == len(in.VIPs) {
		return nil
	}
	return &out
}

// state is the current state of the instance named name (INIT when there is none).
func (d *Daemon) state(name string) vrrp.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	if in := d.cfg.Instance(name); in != nil {
		if r := d.vrrp[config.InstanceID(in)]; r != nil {
			return r.inst.Status().State
		}
	}
	return vrrp.StateInit
}

func (d *Daemon) localRole(instance string) localnode.Role {
	return roleOf(d.state(instance)).localnode()
}

// applySync restarts the sync daemon only when its interface or sync_id changed; when it
// only follows another (or renamed) instance, it takes that instance's role.
func (d *Daemon) applySync(cfg *config.Config, plan config.Plan) {
	changes := plan.Of(config.KindSyncDaemon)
	if len(changes) == 0 {
		return
	}
	replaced := false
	for _, c := range changes {
		replaced = replaced || c.Op != config.OpChange
	}
	d.mu.Lock()
	f := d.follower
	d.mu.Unlock()
	if replaced && f != nil {
		if err := f.Stop(); err != nil {
			d.log.Error("stop IPVS sync daemon", "err", err, "cause", "reload")
		}
		f = nil
	}
	if replaced {
		f = newFollower(cfg.SyncDaemon, d.log)
	}
	d.mu.Lock()
	d.follower = f
	d.mu.Unlock()
	if f != nil && cfg.SyncDaemon != nil {
		if r := roleOf(d.state(cfg.SyncDaemon.VRRPInstance)); r != roleNone {
			f.OnRole(r.sync())
		}
	}
}
