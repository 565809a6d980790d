package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os/user"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/script"
	"github.com/lvsd/lvsd/internal/track"
	"github.com/lvsd/lvsd/vrrp"
)

// tracking wires keepalived's tracked items and sync groups into the VRRP instances: it
// translates the config into vrrp.Tracked items, runs the vrrp_script and vrrp_track_file
// trackers and posts their results to every instance that tracks them, and coordinates the
// members of each vrrp_sync_group. A reload (setConfig, then attach) keeps the trackers
// whose definition did not change, so their state carries over.
type tracking struct {
	log *slog.Logger

	mu       sync.Mutex
	cfg      *config.Config
	creds    map[string]*syscall.Credential // by vrrp_script name
	groups   map[string]*syncGroup          // by member instance name
	all      []*syncGroup
	scripts  map[string]*scriptRun
	files    map[string]*fileRun
	ctx      context.Context // the trackers' parent once started; nil before
	hooksCtx context.Context
	wg       sync.WaitGroup
}

// scriptRun is one running vrrp_script and the instances it reports to.
type scriptRun struct {
	def    config.VRRPScript
	cred   *syscall.Credential
	tr     *track.ScriptTracker
	cancel context.CancelFunc
	done   chan struct{}
	out    reporter
}

// fileRun is one running vrrp_track_file.
type fileRun struct {
	def    config.VRRPTrackFile
	tr     *track.FileTracker
	cancel context.CancelFunc
	done   chan struct{}
	out    reporter
}

// reporter fans one tracker's results out to the instances tracking it and remembers the
// last one for instances that start tracking it later (a reload).
type reporter struct {
	mu    sync.Mutex
	key   string
	users []*vrrp.Instance
	last  *vrrp.TrackResult
}

func (r *reporter) report(res vrrp.TrackResult) {
	r.mu.Lock()
	r.last = &res
	users := slices.Clone(r.users)
	r.mu.Unlock()
	for _, in := range users {
		in.Track(r.key, res)
	}
}

// setUsers changes the instances reported to; new ones get the last result at once.
func (r *reporter) setUsers(users []*vrrp.Instance) {
	r.mu.Lock()
	old := r.users
	r.users = users
	last := r.last
	r.mu.Unlock()
	if last == nil {
		return
	}
	for _, in := range users {
		if !slices.Contains(old, in) {
			in.Track(r.key, *last)
		}
	}
}

// syncGroup is one vrrp_sync_group: the pure coordinator, its members, and its hooks.
type syncGroup struct {
	cfg     config.SyncGroup
	log     *slog.Logger
	queue   *script.Queue
	mu      sync.Mutex
	coord   *vrrp.SyncCoordinator
	members map[string]*vrrp.Instance
}

// credential resolves a user name or uid ("" = lvsd's own user: nil).
func credential(name string) (*syscall.Credential, error) {
	if name == "" || name == "root" || name == "0" {
		return nil, nil
	}
	var u *user.User
	var err error
	if _, numErr := strconv.Atoi(name); numErr == nil {
		u, err = user.LookupId(name)
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(n))
			}
		}
	}
	return cred, nil
}

// scriptCreds resolves who runs each vrrp_script; this is what can only be checked on the
// machine (the users must exist), so New and a reload's checks call it first.
func scriptCreds(cfg *config.Config) (map[string]*syscall.Credential, error) {
	creds := map[string]*syscall.Credential{}
	globalCred, err := credential(cfg.Global.ScriptUser)
	if err != nil {
		return nil, atPos(cfg.Global.Pos, fmt.Errorf("global script_user: %w", err))
	}
	for _, s := range cfg.VRRPScripts {
		if s.User == "" {
			creds[s.Name] = globalCred
			continue
		}
		c, err := credential(s.User)
		if err != nil {
			return nil, atPos(s.Pos, fmt.Errorf("vrrp_script %q: %w", s.Name, err))
		}
		creds[s.Name] = c
	}
	return creds, nil
}

// scriptCred is who runs notify hooks: global script_user (nil = root; checked by
// scriptCreds before).
func scriptCred(cfg *config.Config) *syscall.Credential {
	c, _ := credential(cfg.Global.ScriptUser)
	return c
}

// hookCred is who runs notify hooks under the current configuration.
func (t *tracking) hookCred() *syscall.Credential {
	t.mu.Lock()
	cfg := t.cfg
	t.mu.Unlock()
	if cfg == nil {
		return nil
	}
	return scriptCred(cfg)
}

func newTracking(log *slog.Logger) *tracking {
	return &tracking{log: log, groups: map[string]*syncGroup{}, scripts: map[string]*scriptRun{}, files: map[string]*fileRun{}}
}

// setConfig makes cfg the tracking configuration (creds from scriptCreds): configure and
// observe follow it at once; attach then runs what it needs. Sync groups whose members did
// not change keep their coordinator.
func (t *tracking) setConfig(cfg *config.Config, creds map[string]*syscall.Credential, hooksCtx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cfg, t.creds, t.hooksCtx = cfg, creds, hooksCtx
	old := t.all
	t.all, t.groups = nil, map[string]*syncGroup{}
	for _, g := range cfg.SyncGroups {
		var sg *syncGroup
		for _, o := range old {
			if o != nil && o.cfg.Name == g.Name && slices.Equal(o.cfg.Instances, g.Instances) {
				sg = o
				sg.mu.Lock()
				sg.cfg = g // hooks may have changed
				sg.mu.Unlock()
				old[slices.Index(old, o)] = nil
				break
			}
		}
		if sg == nil {
			glog := t.log.With("sync_group", g.Name)
			sg = &syncGroup{cfg: g, log: glog, coord: vrrp.NewSyncCoordinator(g.Name, g.Instances), members: map[string]*vrrp.Instance{},
				queue: script.NewQueue(hooksCtx, glog.With("component", "hooks"), hookTimeout).RunAs(scriptCred(cfg))}
		}
		t.all = append(t.all, sg)
		for _, m := range g.Instances {
			t.groups[m] = sg
		}
	}
	for _, o := range old {
		if o != nil {
			_ = o.queue.Close(context.Background())
		}
	}
}

// configure adds an instance's tracked items and split-brain GARP settings to its engine
// configuration; a sync group's track_script applies to each member with weight 0.
func (t *tracking) configure(c *vrrp.InstanceConfig, in *config.VRRPInstance) {
	for _, ti := range in.TrackInterfaceWeights {
		c.Tracked = append(c.Tracked, vrrp.Tracked{Kind: vrrp.TrackInterface, Name: ti.Name, Weight: ti.Weight, Reverse: ti.Reverse})
	}
	for _, ts := range in.TrackScripts {
		c.Tracked = append(c.Tracked, vrrp.Tracked{Kind: vrrp.TrackScript, Name: ts.Name, Weight: ts.Weight, Reverse: ts.Reverse})
	}
	for _, tf := range in.TrackFiles {
		c.Tracked = append(c.Tracked, vrrp.Tracked{Kind: vrrp.TrackFile, Name: tf.Name, Weight: tf.Weight, Reverse: tf.Reverse})
	}
	t.mu.Lock()
	g := t.groups[in.Name]
	t.mu.Unlock()
	if g != nil {
		for _, ts := range g.cfg.TrackScripts {
			c.Tracked = append(c.Tracked, vrrp.Tracked{Kind: vrrp.TrackScript, Name: ts.Name})
		}
	}
	c.GARPLowerPrioRepeat = in.GARPLowerPrioRepeat
	if c.GARPLowerPrioRepeat == 0 {
		c.GARPLowerPrioRepeat = -1 // configured 0: no burst (the engine's 0 means "as garp_master_repeat")
	}
	c.GARPLowerPrioDelay = in.GARPLowerPrioDelay
	c.GARPMasterRefresh = in.GARPMasterRefresh
}

// observe is every instance's Deps.OnTransition: a member of a sync group tells its group.
func (t *tracking) observe(instance string, tr vrrp.Transition, prio uint8) {
	t.mu.Lock()
	g := t.groups[instance]
	t.mu.Unlock()
	if g != nil {
		g.observe(instance, tr, prio)
	}
}

// attach makes the trackers match the configuration and the running instances (runners,
// after a reload's changes): trackers of scripts and files that some instance tracks run,
// unchanged ones keep running (and their state), the others stop; each reports to the
// instances that track it. Sync groups learn their members.
func (t *tracking) attach(runners map[string]*vrrpRunner) {
	users := map[string][]*vrrp.Instance{} // "script:NAME" / "file:NAME" -> instances
	byName := map[string]*vrrp.Instance{}
	for _, r := range runners {
		st := r.inst.Status()
		byName[st.Name] = r.inst
		seen := map[string]bool{}
		for _, tr := range st.Tracked {
			key := tr.Kind + ":" + tr.Name
			if tr.Kind != "interface" && !seen[key] {
				seen[key] = true
				users[key] = append(users[key], r.inst)
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, g := range t.all {
		g.mu.Lock()
		g.members = map[string]*vrrp.Instance{}
		for _, m := range g.cfg.Instances {
			if in := byName[m]; in != nil {
				g.members[m] = in
			}
		}
		g.mu.Unlock()
	}
	var stale []func()
	keepScripts := map[string]*scriptRun{}
	for _, s := range t.cfg.VRRPScripts {
		key := vrrp.Tracked{Kind: vrrp.TrackScript, Name: s.Name}.Key()
		if len(users[key]) == 0 {
			continue // as keepalived: a script nothing tracks is not run
		}
		run := t.scripts[s.Name]
		if run == nil || !sameScript(run.def, s) || !reflect.DeepEqual(run.cred, t.creds[s.Name]) {
			if run != nil {
				stale = append(stale, run.stop)
			}
			run = &scriptRun{def: s, cred: t.creds[s.Name], out: reporter{key: key}}
			run.tr = track.NewScriptTracker(track.Script{
				Name: s.Name, Argv: s.Argv, Interval: s.Interval, Timeout: s.Timeout, Rise: s.Rise, Fall: s.Fall,
				InitFail: s.InitFail, Cred: run.cred,
			}, track.ExecRunner{}, t.log, func(ok bool) { run.out.report(vrrp.TrackResult{OK: ok}) })
		}
		run.out.setUsers(users[key])
		keepScripts[s.Name] = run
	}
	for name, run := range t.scripts {
		if keepScripts[name] != run {
			stale = append(stale, run.stop)
		}
	}
	keepFiles := map[string]*fileRun{}
	for _, f := range t.cfg.TrackFiles {
		key := vrrp.Tracked{Kind: vrrp.TrackFile, Name: f.Name}.Key()
		if len(users[key]) == 0 {
			continue
		}
		run := t.files[f.Name]
		if run == nil || run.def.File != f.File {
			if run != nil {
				stale = append(stale, run.stop)
			}
			run = &fileRun{def: f, out: reporter{key: key}}
			run.tr = track.NewFileTracker(f.Name, f.File, t.log, func(v int) { run.out.report(vrrp.TrackResult{Value: v}) })
		}
		run.out.setUsers(users[key])
		keepFiles[f.Name] = run
	}
	for name, run := range t.files {
		if keepFiles[name] != run {
			stale = append(stale, run.stop)
		}
	}
	for _, stop := range stale {
		stop()
	}
	t.scripts, t.files = keepScripts, keepFiles
	if t.ctx != nil {
		t.startLocked()
	}
}

// sameScript compares two vrrp_script definitions, positions aside.
func sameScript(a, b config.VRRPScript) bool {
	a.Pos, b.Pos = config.Pos{}, config.Pos{}
	return reflect.DeepEqual(a, b)
}

// start runs the trackers until ctx ends (a script in flight is killed with its group).
func (t *tracking) start(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctx = ctx
	t.startLocked()
}

func (t *tracking) startLocked() {
	for _, s := range t.scripts {
		if s.done == nil {
			ctx, cancel := context.WithCancel(t.ctx)
			s.cancel, s.done = cancel, make(chan struct{})
			t.wg.Add(1)
			go func() { defer t.wg.Done(); defer close(s.done); s.tr.Run(ctx) }()
		}
	}
	for _, f := range t.files {
		if f.done == nil {
			ctx, cancel := context.WithCancel(t.ctx)
			f.cancel, f.done = cancel, make(chan struct{})
			t.wg.Add(1)
			go func() { defer t.wg.Done(); defer close(f.done); f.tr.Run(ctx) }()
		}
	}
}

func (s *scriptRun) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

func (f *fileRun) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
	}
}

// stop waits for the trackers (their context has ended) and lets the groups' hooks finish
// until ctx ends.
func (t *tracking) stop(ctx context.Context) {
	t.wg.Wait()
	t.mu.Lock()
	groups := slices.Clone(t.all)
	t.mu.Unlock()
	for _, g := range groups {
		if err := g.queue.Close(ctx); err != nil {
			t.log.Warn("sync group notify scripts still running at stop were killed", "sync_group", g.cfg.Name, "err", err)
		}
	}
}

// observe is called from a member's protocol loop on each of its transitions: it posts
// the coordinator's orders to the other members (never blocking) and runs the group's
// hooks when the group's state changes.
func (g *syncGroup) observe(member string, tr vrrp.Transition, _ uint8) {
	g.mu.Lock()
	orders, changed := g.coord.Observe(member, tr)
	state := g.coord.State()
	members := g.members
	cfg := g.cfg
	g.mu.Unlock()
	for _, o := range orders {
		in := members[o.Member]
		if in == nil {
			continue
		}
		if o.Fault != nil {
			in.SyncFault(*o.Fault)
		} else {
			in.SyncState(o.State)
		}
	}
	if !changed || state == vrrp.StateInit {
		return
	}
	g.log.Info("VRRP sync group state change", "state", state, "member", member, "cause", tr.Reason)
	if own := stateHook(state, cfg.NotifyMaster, cfg.NotifyBackup, cfg.NotifyFault); own != "" {
		_ = g.queue.Enqueue(own)
	}
	if cfg.Notify != "" {
		_ = g.queue.Enqueue(cfg.Notify, "GROUP", cfg.Name, state.String())
	}
}

// stateHook picks the notify_master / notify_backup / notify_fault command for state.
func stateHook(state vrrp.State, master, backup, fault string) string {
	switch state {
	case vrrp.StateMaster:
		return master
	case vrrp.StateBackup:
		return backup
	case vrrp.StateFault:
		return fault
	}
	return ""
}

// statusInto adds the trackers' and groups' state to a status snapshot.
func (t *tracking) statusInto(st *Status) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.cfg.VRRPScripts {
		run := t.scripts[s.Name]
		if run == nil {
			continue
		}
		ss := run.tr.Status()
		st.VRRPScripts = append(st.VRRPScripts, VRRPScriptStatus{Name: ss.Name, Up: ss.OK && !ss.Missing, Runs: ss.Runs,
			LastExit: ss.LastExit, TimedOut: ss.TimedOut, Missing: ss.Missing})
	}
	for _, g := range t.all {
		g.mu.Lock()
		state := g.coord.State()
		g.mu.Unlock()
		st.SyncGroups = append(st.SyncGroups, SyncGroupStatus{Name: g.cfg.Name, State: state.String(), Instances: g.cfg.Instances})
	}
}

func trackedStatus(ts []vrrp.TrackStatus) []TrackedStatus {
	var out []TrackedStatus
	for _, t := range ts {
		state := "unknown"
		if t.Known {
			switch {
			case t.Kind == "file":
				state = strconv.Itoa(t.Value)
			case t.OK:
				state = "ok"
			default:
				state = "failed"
			}
		}
		out = append(out, TrackedStatus{Kind: t.Kind, Name: t.Name, Weight: t.Weight, Reverse: t.Reverse,
			State: state, Effect: t.Effect})
	}
	return out
}
