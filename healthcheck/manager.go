package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/script"
)

// DefaultHookTimeout bounds notify_up/notify_down/quorum_up/quorum_down scripts.
const DefaultHookTimeout = 30 * time.Second

// VirtualServer is what the manager needs of a virtual_server block. The daemon maps the
// typed config into it.
type VirtualServer struct {
	// Name identifies it in OnChange, Status and logs (the block label as written).
	Name string
	// DelayLoop is the check interval of the checks that have none of their own (> 0).
	DelayLoop time.Duration
	// Alpha starts every real server down until its checks pass.
	Alpha bool
	// Quorum is the minimum live weight (at least 1); Hysteresis as in keepalived.
	Quorum     int
	Hysteresis int
	// SorryServer (zero: none) gets the traffic while quorum is lost, with SorryWeight
	// (0: 1).
	SorryServer netip.AddrPort
	SorryWeight int
	// QuorumUp and QuorumDown are hook command lines (empty: none).
	QuorumUp, QuorumDown string
	RealServers          []RealServer
}

// RealServer is a real_server block.
type RealServer struct {
	Address          netip.AddrPort
	Weight           int
	InhibitOnFailure bool
	// NotifyUp and NotifyDown are hook command lines (empty: none).
	NotifyUp, NotifyDown string
	// Checks must all pass for the server to be up; none: always up.
	Checks []Check
}

// Check is one checker block with its timing. Exactly one of TCP, HTTP, Misc, Custom is set.
type Check struct {
	TCP  *TCPConfig
	HTTP *HTTPConfig // http_get, or ssl_get with TLS set
	Misc *MiscConfig
	// Custom is any other Checker (tests, future checkers).
	Custom Checker

	// DelayLoop overrides the virtual server's (0: inherit).
	DelayLoop time.Duration
	// Retry is how many retries follow a failure before the check is down; values are
	// used as written (the config layer applies keepalived's defaults).
	Retry int
	// DelayBeforeRetry is the delay before a retry (0: at once).
	DelayBeforeRetry time.Duration
	// Warmup spreads the first check randomly over [0, Warmup) (0: at once).
	Warmup time.Duration
}

// Options are the manager's collaborators.
type Options struct {
	Log *slog.Logger
	// Clock nil: the real clock.
	Clock Clock
	// Workers bounds concurrent checks (0: DefaultWorkers).
	Workers int
	// HookTimeout bounds each hook script (0: DefaultHookTimeout).
	HookTimeout time.Duration
	// HookCred runs the hook scripts as another user (keepalived's script_user); nil:
	// lvsd's own. SetHookCred changes it.
	HookCred *syscall.Credential
	// OnChange receives a virtual server's full desired destination list whenever it
	// changes, and once per virtual server at start. Calls for one virtual server are
	// serialized and in order; it is called with that virtual server locked, so it must
	// return quickly and must not call Status.
	OnChange func(vs string, dests []Dest)
	// Jitter returns the first-check delay in [0, max); nil: uniform random.
	Jitter func(max time.Duration) time.Duration
}

// Manager runs every check of every virtual server and turns results into destination
// lists and hooks. Virtual servers are identified by Name: Apply keeps the state of the
// ones it finds again.
type Manager struct {
	opt   Options
	log   *slog.Logger
	clock Clock
	hooks *script.Queue
	sched atomic.Pointer[Scheduler] // set by Run

	mu       sync.Mutex // guards vss, order, running, jitter; taken before any vsRun.mu
	vss      map[string]*vsRun
	order    []string // names in configuration order, for Status
	running  bool     // Run has scheduled the checks: Apply schedules new ones itself
	hookCred *syscall.Credential
	jitter   func(time.Duration) time.Duration
}

type vsRun struct {
	cfg     VirtualServer
	mu      sync.Mutex
	pool    *Pool
	servers []*rsRun
	dests   []Dest
}

type rsRun struct {
	cfg     RealServer
	state   *ServerState
	checks  []Checker
	timing  []checkTiming
	removed atomic.Bool // by Apply: its jobs drop out of the scheduler
}

type checkTiming struct {
	warmup time.Duration
}

// NewManager validates the virtual servers and builds their checkers.
func NewManager(vss []VirtualServer, opt Options) (*Manager, error) {
	m := &Manager{opt: opt, log: opt.Log, clock: opt.Clock, vss: map[string]*vsRun{}, hookCred: opt.HookCred}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.clock == nil {
		m.clock = RealClock{}
	}
	m.jitter = opt.Jitter
	if m.jitter == nil {
		m.jitter = defaultJitter
	}
	built, err := m.build(vss)
	if err != nil {
		return nil, err
	}
	for _, b := range built {
		m.vss[b.cfg.Name] = &vsRun{cfg: b.cfg, pool: NewPool(poolConfig(b.cfg)), servers: b.servers}
		m.order = append(m.order, b.cfg.Name)
	}
	return m, nil
}

func poolConfig(vc VirtualServer) PoolConfig {
	return PoolConfig{Quorum: vc.Quorum, Hysteresis: vc.Hysteresis, SorryServer: vc.SorryServer, SorryWeight: vc.SorryWeight}
}

// builtVS is a virtual server checked and ready to commit: its real servers are the
// running ones that Apply keeps (same address, same checks) or fresh ones.
type builtVS struct {
	cfg     VirtualServer
	servers []*rsRun
	fresh   []*rsRun // the new ones among servers: their checks must be scheduled
	same    bool     // the running virtual server's configuration, unchanged
}

// build validates vss and prepares their real servers, reusing the running ones whose
// checks did not change. It changes nothing: m.mu must be held (or m not yet shared).
func (m *Manager) build(vss []VirtualServer) ([]builtVS, error) {
	names := map[string]bool{}
	var out []builtVS
	for _, vc := range vss {
		if names[vc.Name] {
			return nil, fmt.Errorf("virtual server %q: defined twice", vc.Name)
		}
		names[vc.Name] = true
		if vc.Quorum < 1 {
			return nil, fmt.Errorf("virtual server %q: quorum %d: must be at least 1", vc.Name, vc.Quorum)
		}
		if vc.DelayLoop <= 0 {
			return nil, fmt.Errorf("virtual server %q: delay_loop %v: must be positive", vc.Name, vc.DelayLoop)
		}
		b := builtVS{cfg: vc}
		if vr := m.vss[vc.Name]; vr != nil {
			// Most of a reload of a big table is unchanged: keep it as it runs.
			vr.mu.Lock()
			same := reflect.DeepEqual(vr.cfg, vc)
			if same {
				b.servers, b.same = vr.servers, true
			}
			vr.mu.Unlock()
			if same {
				out = append(out, b)
				continue
			}
		}
		running := map[netip.AddrPort]*rsRun{} // by address: a reload of a big service stays linear
		if vr := m.vss[vc.Name]; vr != nil {
			vr.mu.Lock()
			for _, rr := range vr.servers {
				running[rr.cfg.Address] = rr
			}
			vr.mu.Unlock()
		}
		seen := map[netip.AddrPort]bool{}
		for _, rc := range vc.RealServers {
			if !rc.Address.IsValid() {
				return nil, fmt.Errorf("virtual server %q: real server without address", vc.Name)
			}
			if seen[rc.Address] {
				return nil, fmt.Errorf("virtual server %q: real server %s listed twice", vc.Name, rc.Address)
			}
			seen[rc.Address] = true
			if rr := running[rc.Address]; rr != nil && reflect.DeepEqual(rr.cfg.Checks, rc.Checks) {
				b.servers = append(b.servers, rr)
				continue
			}
			rr, err := newRSRun(vc, rc)
			if err != nil {
				return nil, fmt.Errorf("virtual server %q real server %s: %w", vc.Name, rc.Address, err)
			}
			b.servers = append(b.servers, rr)
			b.fresh = append(b.fresh, rr)
		}
		out = append(out, b)
	}
	return out, nil
}

func newRSRun(vc VirtualServer, rc RealServer) (*rsRun, error) {
	rr := &rsRun{cfg: rc}
	var policies []CheckPolicy
	for i, c := range rc.Checks {
		p := CheckPolicy{Retry: c.Retry, DelayLoop: c.DelayLoop, DelayBeforeRetry: c.DelayBeforeRetry, Alpha: vc.Alpha}
		if p.DelayLoop <= 0 {
			p.DelayLoop = vc.DelayLoop
		}
		if c.Retry < 0 {
			return nil, fmt.Errorf("check %d: retry %d is negative", i+1, c.Retry)
		}
		if c.DelayBeforeRetry < 0 {
			return nil, fmt.Errorf("check %d: delay_before_retry %v is negative", i+1, c.DelayBeforeRetry)
		}
		var chk Checker
		n := 0
		if c.TCP != nil {
			n++
			cfg := *c.TCP
			cfg.ConnOpts = cfg.ConnOpts.WithDefaults(rc.Address)
			chk = NewTCPChecker(cfg)
		}
		if c.HTTP != nil {
			n++
			cfg := *c.HTTP
			cfg.ConnOpts = cfg.ConnOpts.WithDefaults(rc.Address)
			cfg.URLs = slices.Clone(cfg.URLs)
			hc, err := NewHTTPChecker(cfg)
			if err != nil {
				return nil, fmt.Errorf("check %d: %w", i+1, err)
			}
			chk = hc
		}
		if c.Misc != nil {
			n++
			mc, err := NewMiscChecker(*c.Misc, p.DelayLoop)
			if err != nil {
				return nil, fmt.Errorf("check %d: %w", i+1, err)
			}
			chk = mc
		}
		if c.Custom != nil {
			n++
			chk = c.Custom
		}
		if n != 1 {
			return nil, fmt.Errorf("check %d: want exactly one of tcp_check, http_get/ssl_get, misc_check; have %d", i+1, n)
		}
		policies = append(policies, p)
		rr.checks = append(rr.checks, chk)
		rr.timing = append(rr.timing, checkTiming{warmup: c.Warmup})
	}
	rr.state = NewServerState(policies)
	return rr, nil
}

// Run emits every virtual server's initial destinations, then runs the checks until ctx
// ends. It returns once every goroutine it started has stopped (running checks are
// canceled; hooks still queued are dropped).
func (m *Manager) Run(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	timeout := m.opt.HookTimeout
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	hooks := script.NewQueue(ctx, m.log.With("component", "healthcheck hooks"), timeout)
	sched := NewScheduler(m.clock, m.opt.Workers)
	m.sched.Store(sched)
	m.mu.Lock()
	m.hooks = hooks.RunAs(m.hookCred)
	for _, name := range m.order {
		vr := m.vss[name]
		vr.mu.Lock()
		m.recompute(vr, "start", true)
		vr.mu.Unlock()
		m.schedule(sched, vr, vr.servers)
	}
	m.running = true
	m.mu.Unlock()
	sched.Run(ctx)
	stop, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := m.hooks.Close(stop); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// schedule adds the checks of servers, each after its warmup jitter.
func (m *Manager) schedule(sched *Scheduler, vr *vsRun, servers []*rsRun) {
	for _, rr := range servers {
		for i := range rr.checks {
			sched.Add(m.jitter(rr.timing[i].warmup), m.job(vr, rr, i))
		}
	}
}

// SetHookCred makes the hook scripts run as cred from now on (nil: lvsd's own user), for a
// reload that changes script_user.
func (m *Manager) SetHookCred(cred *syscall.Credential) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hookCred = cred
	if m.hooks != nil {
		m.hooks.RunAs(cred)
	}
}

// Apply makes vss the configuration, changing only what differs: a real server found
// again (same virtual server name, same address, same checks) keeps its up/down state and
// rise/fall counters, so one that is down stays out of the destinations; one whose checks
// changed starts over from its initial state (down with alpha, else up); removed real
// servers and virtual servers stop being checked; new ones start as at Run. Virtual
// server settings (quorum, hysteresis, sorry server, hooks, weights) change in place.
// Every virtual server's destinations are recomputed and OnChange is called where they
// changed (and for every new virtual server). On error nothing has changed.
func (m *Manager) Apply(vss []VirtualServer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	built, err := m.build(vss)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, b := range built {
		keep[b.cfg.Name] = true
	}
	for name, vr := range m.vss {
		if keep[name] {
			continue
		}
		vr.mu.Lock()
		for _, rr := range vr.servers {
			rr.removed.Store(true)
		}
		vr.mu.Unlock()
		delete(m.vss, name)
		m.log.Info("virtual server no longer checked", "vs", name, "cause", "reload")
	}
	sched := m.sched.Load()
	m.order = m.order[:0]
	for _, b := range built {
		m.order = append(m.order, b.cfg.Name)
		vr := m.vss[b.cfg.Name]
		if b.same && vr != nil {
			continue
		}
		isNew := vr == nil
		if isNew {
			vr = &vsRun{cfg: b.cfg, pool: NewPool(poolConfig(b.cfg))}
			m.vss[b.cfg.Name] = vr
		}
		vr.mu.Lock()
		kept := make(map[*rsRun]bool, len(b.servers))
		for _, rr := range b.servers {
			kept[rr] = true
		}
		for _, rr := range vr.servers {
			if !kept[rr] {
				rr.removed.Store(true)
			}
		}
		addrs := make([]netip.AddrPort, 0, len(b.servers))
		for i, rr := range b.servers {
			rr.cfg = b.cfg.RealServers[i] // weight, hooks, inhibit: in place
			addrs = append(addrs, rr.cfg.Address)
		}
		vr.cfg, vr.servers = b.cfg, b.servers
		vr.pool.Reconfigure(poolConfig(b.cfg), addrs)
		if m.running {
			m.recompute(vr, "reload", isNew)
		}
		vr.mu.Unlock()
		if m.running && sched != nil {
			m.schedule(sched, vr, b.fresh)
		}
	}
	return nil
}

func (m *Manager) job(vr *vsRun, rr *rsRun, i int) Job {
	return func(ctx context.Context) time.Duration {
		if rr.removed.Load() {
			return -1
		}
		r := rr.checks[i].Check(ctx)
		if ctx.Err() != nil {
			return 0 // stopping: a canceled check says nothing about the server
		}
		vr.mu.Lock()
		defer vr.mu.Unlock()
		if rr.removed.Load() {
			return -1 // removed while it ran: its result no longer matters
		}
		tr := rr.state.Observe(i, r, m.clock.Now())
		switch {
		case tr.Changed && tr.Up:
			m.log.Info("real server up", "vs", vr.cfg.Name, "rs", rr.cfg.Address, "cause", tr.Cause)
		case tr.Changed:
			m.log.Warn("real server down", "vs", vr.cfg.Name, "rs", rr.cfg.Address, "cause", tr.Cause)
		case !r.Up:
			m.log.Debug("check failed", "vs", vr.cfg.Name, "rs", rr.cfg.Address, "cause", tr.Cause)
		}
		if tr.WeightChanged {
			m.log.Info("real server weight changed", "vs", vr.cfg.Name, "rs", rr.cfg.Address, "weight", rr.weight(), "cause", r.Why)
		}
		if tr.Changed || tr.WeightChanged {
			m.recompute(vr, tr.Cause, false)
		}
		return tr.Next
	}
}

func (rr *rsRun) weight() int {
	if w := rr.state.DynamicWeight(); w != nil {
		return *w
	}
	return rr.cfg.Weight
}

// recompute runs the pool logic for vr (locked), emits destinations when they changed (or
// always at start) and queues hooks.
func (m *Manager) recompute(vr *vsRun, cause string, start bool) {
	servers := make([]PoolServer, len(vr.servers))
	for i, rr := range vr.servers {
		servers[i] = PoolServer{Address: rr.cfg.Address, Weight: rr.cfg.Weight, Up: rr.state.Up(),
			Inhibit: rr.cfg.InhibitOnFailure, DynamicWeight: rr.state.DynamicWeight()}
	}
	dests, events := vr.pool.Update(servers)
	for _, e := range events {
		m.fire(vr, e)
	}
	if !start && slices.Equal(dests, vr.dests) {
		return
	}
	vr.dests = dests
	m.log.Info("virtual server destinations", "vs", vr.cfg.Name, "dests", fmt.Sprint(dests), "cause", cause)
	if m.opt.OnChange != nil {
		m.opt.OnChange(vr.cfg.Name, slices.Clone(dests))
	}
}

func (m *Manager) fire(vr *vsRun, e Event) {
	var cmd string
	switch e.Kind {
	case QuorumUp:
		m.log.Info("quorum up", "vs", vr.cfg.Name, "cause", e.Cause)
		cmd = vr.cfg.QuorumUp
	case QuorumDown:
		m.log.Warn("quorum down", "vs", vr.cfg.Name, "cause", e.Cause, "sorry_server", vr.pool.SorryActive())
		cmd = vr.cfg.QuorumDown
	case ServerUp, ServerDown:
		for _, rr := range vr.servers {
			if rr.cfg.Address == e.Server {
				cmd = rr.cfg.NotifyUp
				if e.Kind == ServerDown {
					cmd = rr.cfg.NotifyDown
				}
			}
		}
	}
	if cmd != "" && m.hooks != nil {
		_ = m.hooks.Enqueue(cmd) // errors are logged by the queue
	}
}

// VirtualServerStatus is one virtual server's view for `lvsd status`.
type VirtualServerStatus struct {
	Name        string             `json:"name"`
	QuorumUp    bool               `json:"quorum_up"`
	SorryActive bool               `json:"sorry_server_active"`
	Dests       []Dest             `json:"-"`
	RealServers []RealServerStatus `json:"real_servers"`
}

// RealServerStatus is one real server's health.
type RealServerStatus struct {
	Address netip.AddrPort `json:"address"`
	// Weight is the effective weight (misc_dynamic's when set).
	Weight      int           `json:"weight"`
	Healthy     bool          `json:"healthy"`
	LastWhy     string        `json:"last_result,omitempty"`
	LastCheck   time.Time     `json:"last_check,omitzero"`
	LastLatency time.Duration `json:"last_latency_ns,omitempty"`
	// Failures is the current count of consecutive failures.
	Failures int `json:"failures"`
	// Durations counts how long its checks took.
	Durations Histogram `json:"check_durations"`
}

// Status returns a snapshot of every virtual server, in configuration order.
func (m *Manager) Status() []VirtualServerStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]VirtualServerStatus, 0, len(m.vss))
	for _, name := range m.order {
		vr := m.vss[name]
		vr.mu.Lock()
		st := VirtualServerStatus{Name: vr.cfg.Name, QuorumUp: vr.pool.QuorumUp(), SorryActive: vr.pool.SorryActive(), Dests: slices.Clone(vr.dests)}
		for _, rr := range vr.servers {
			st.RealServers = append(st.RealServers, RealServerStatus{
				Address: rr.cfg.Address, Weight: rr.weight(), Healthy: rr.state.Up(),
				LastWhy: rr.state.LastWhy, LastCheck: rr.state.LastTime, LastLatency: rr.state.LastLatency,
				Failures: rr.state.Failures(), Durations: rr.state.Durations.Clone(),
			})
		}
		vr.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// defaultJitter is uniform over [0, max).
func defaultJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}
