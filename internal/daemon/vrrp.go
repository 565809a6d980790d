package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/script"
	"github.com/lvsd/lvsd/vrrp"
)

// hookTimeout bounds each notify script: a hung hook must not hold back the ones after it
// forever (they run in order, per instance).
const hookTimeout = 30 * time.Second

// instanceConfig maps a validated vrrp_instance block to the engine's configuration.
// primary is our source address for tie-breaks: unicast_src_ip, or the interface's
// primary IPv4 address.
func instanceConfig(in *config.VRRPInstance, primary netip.Addr) vrrp.InstanceConfig {
	c := vrrp.InstanceConfig{
		Name:            in.Name,
		Interface:       in.Interface,
		VRID:            in.VRID,
		Priority:        in.Priority,
		AdvertInt:       in.AdvertInt,
		Preempt:         in.Preempt,
		PreemptDelay:    in.PreemptDelay,
		PrimaryIP:       primary,
		UnicastPeers:    in.UnicastPeers,
		InitialState:    vrrp.StateBackup,
		GARPRepeat:      in.GARPMasterRepeat,
		GARPDelay:       in.GARPMasterDelay,
		TrackInterfaces: in.TrackInterfaces,
		Version:         uint8(in.VRRPVersion),
	}
	if in.InitialState == config.StateMaster {
		c.InitialState = vrrp.StateMaster
	}
	if in.AuthType == config.AuthPass {
		c.AuthType = vrrp.AuthPass
		c.AuthPass = in.AuthPass
	}
	for _, v := range in.VIPs {
		c.VIPs = append(c.VIPs, vrrp.VIP{Prefix: v.Prefix, Dev: v.Dev, Label: v.Label, Excluded: v.Excluded})
	}
	return c
}

// sourceAddr is the source address of an instance's adverts: unicast_src_ip, else the
// interface's primary IPv4 address, or for an IPv6 instance its link-local address.
func sourceAddr(in *config.VRRPInstance) (netip.Addr, error) {
	if in.UnicastSrcIP.IsValid() {
		return in.UnicastSrcIP, nil
	}
	if in.IPv6 {
		return vrrp.LinkLocalIPv6(in.Interface)
	}
	return vrrp.PrimaryIPv4(in.Interface)
}

// openVRRPConn opens an instance's VRRP socket, sending from primary.
func openVRRPConn(in *config.VRRPInstance, primary netip.Addr) (vrrp.Conn, error) {
	if in.IPv6 {
		return vrrp.NewConn6(in.Interface, primary, in.UnicastPeers)
	}
	src := in.UnicastSrcIP
	if len(in.UnicastPeers) > 0 && !src.IsValid() {
		src = primary // unicast_peer without unicast_src_ip: the interface's primary address
	}
	return vrrp.NewConn(in.Interface, src, in.UnicastPeers)
}

// hookNotifier runs an instance's notify scripts in transition order, as keepalived does:
// the state's own script (notify_master, notify_backup, notify_fault, notify_stop) and
// then `notify` with INSTANCE NAME STATE PRIORITY. Other reactions to a transition
// (localnode rules, the sync daemon's role) run first, through react. A reload may
// change the scripts (set).
type hookNotifier struct {
	mu    sync.Mutex
	cfg   *config.VRRPInstance
	queue *script.Queue
	react func(instance string, state vrrp.State)
	own   []func(vrrp.State) // the instance's own reactions (accept_mode rules)
	state vrrp.State         // the last state notified
}

// set makes cfg the instance's configuration (a reload). When what its own reactions
// depend on changed (accept_mode rules name its VIPs), the old ones are told the instance
// stopped and the new ones the state it is in, so that the rules follow.
func (n *hookNotifier) set(cfg *config.VRRPInstance, log *slog.Logger) {
	n.mu.Lock()
	defer n.mu.Unlock()
	prev := n.cfg
	n.cfg = cfg
	if prev.Name == cfg.Name && prev.AcceptMode == cfg.AcceptMode && prev.Priority == cfg.Priority &&
		slices.Equal(prev.VIPs, cfg.VIPs) {
		return
	}
	own, err := acceptModeReactions(cfg, log)
	if err != nil {
		log.Error("accept_mode rules", "err", err, "cause", "reload")
		return
	}
	old := n.own
	n.own = own
	if len(old) == 0 && len(own) == 0 || n.state == vrrp.StateInit {
		return
	}
	for _, f := range old {
		f(vrrp.StateInit)
	}
	for _, f := range own {
		f(n.state)
	}
}

func (n *hookNotifier) Notify(instance string, state vrrp.State, priority uint8) {
	if n.react != nil {
		n.react(instance, state)
	}
	n.mu.Lock()
	cfg := n.cfg
	n.state = state
	for _, f := range n.own {
		f(state)
	}
	n.mu.Unlock()
	stateName := state.String()
	var own string
	switch state {
	case vrrp.StateMaster:
		own = cfg.NotifyMaster
	case vrrp.StateBackup:
		own = cfg.NotifyBackup
	case vrrp.StateFault:
		own = cfg.NotifyFault
	case vrrp.StateInit: // the engine signals its stop as INIT
		own = cfg.NotifyStop
		stateName = "STOP"
	}
	if own != "" {
		_ = n.queue.Enqueue(own) // errors are logged by the queue
	}
	if cfg.Notify != "" {
		_ = n.queue.Enqueue(cfg.Notify, "INSTANCE", instance, stateName, strconv.Itoa(int(priority)))
	}
}

// vrrpRunner is one instance with the effects it owns. It is prepared (socket open,
// nothing on the system changed), then started, and stopped on its own (a reload removes
// it) or with the daemon.
type vrrpRunner struct {
	id       string // config.InstanceID
	inst     *vrrp.Instance
	conn     vrrp.Conn // owned by inst once it runs; closed by close() if it never does
	queue    *script.Queue
	notifier *hookNotifier
	primary  netip.Addr
	ctx      context.Context    // inst's and its link watcher's
	cancel   context.CancelFunc // stops inst and its link watcher
	done     chan struct{}      // closed when inst.Run returned
}

// close releases a runner that was prepared but never started.
func (r *vrrpRunner) close() {
	r.cancel()
	r.conn.Close()
	r.queue.Close(context.Background())
}

// start runs the instance until its context (a child of the daemon's VRRP context) ends;
// fail reports a failure of Run.
func (r *vrrpRunner) start(wg *sync.WaitGroup, fail func(error)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(r.done)
		if err := r.inst.Run(r.ctx); err != nil {
			fail(err)
		}
	}()
}

// stop stops a started runner as on SIGTERM (a MASTER sends a priority-0 advert, VIPs
// are removed, notify_stop runs) and waits for its hooks within ctx.
func (r *vrrpRunner) stop(ctx context.Context, log *slog.Logger) {
	r.cancel()
	<-r.done
	if err := r.queue.Close(ctx); err != nil {
		log.Warn("notify scripts still running at stop were killed", "instance", r.inst.Status().Name, "err", err)
	}
}

// vrrpEnv is what preparing an instance needs besides its config.
type vrrpEnv struct {
	ctx      context.Context // parent of every instance's context (link watchers, Run)
	hooksCtx context.Context // outlives the instances: notify_stop runs as they stop
	links    vrrp.LinkWatcher
	addrs    vrrp.Addresses
	garp     vrrp.Announcer
	react    func(instance string, state vrrp.State)
	track    *tracking // tracked items and sync groups (track.go)
	log      *slog.Logger
}

// prepareRunner resolves the interfaces and source address of one instance and opens its
// raw socket and link watch. Nothing on the system changes (no VIP, no advert), so a
// failure leaves the machine as it was; the error names the block and its position.
func prepareRunner(env *vrrpEnv, in *config.VRRPInstance) (*vrrpRunner, error) {
	where := fmt.Sprintf("vrrp_instance %q", in.Name)
	if err := checkInstanceLinks(in); err != nil {
		return nil, err
	}
	primary, err := sourceAddr(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := ownAddressIsVIP(in, primary); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ilog := env.log.With("instance", in.Name)
	accept, err := acceptModeReactions(in, ilog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	conn, err := openVRRPConn(in, primary)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, rawSocketError(in.Interface, err))
	}
	ctx, cancel := context.WithCancel(env.ctx)
	queue := script.NewQueue(env.hooksCtx, ilog.With("component", "hooks"), hookTimeout).RunAs(env.track.hookCred())
	notifier := &hookNotifier{cfg: in, queue: queue, react: env.react, own: accept}
	icfg := instanceConfig(in, primary)
	env.track.configure(&icfg, in)
	fail := func(err error) (*vrrpRunner, error) {
		cancel()
		conn.Close()
		queue.Close(context.Background())
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ch, err := env.links.Watch(ctx, vrrp.WatchedLinks(icfg))
	if err != nil {
		return fail(fmt.Errorf("watch links: %w", err))
	}
	inst, err := vrrp.NewInstance(icfg, vrrp.Deps{
		Conn: conn, Addresses: env.addrs, Announcer: env.garp, Notifier: notifier, Links: ch, Log: env.log,
		OnTransition: env.track.observe,
	})
	if err != nil {
		return fail(err)
	}
	return &vrrpRunner{id: config.InstanceID(in), inst: inst, conn: conn, queue: queue, notifier: notifier,
		primary: primary, ctx: ctx, cancel: cancel, done: make(chan struct{})}, nil
}

// checkInstanceLinks checks that the interfaces an instance needs exist here.
func checkInstanceLinks(in *config.VRRPInstance) error {
	where := fmt.Sprintf("vrrp_instance %q", in.Name)
	if _, err := net.InterfaceByName(in.Interface); err != nil {
		return fmt.Errorf("%s: %w", where, missingInterface("interface", in.Interface))
	}
	for _, t := range in.TrackInterfaces {
		if _, err := net.InterfaceByName(t); err != nil {
			return fmt.Errorf("%s: %w", where, missingInterface("track_interface", t))
		}
	}
	return nil
}

// prepareRunners prepares every instance of cfg, keyed by identity; on error the ones
// already prepared are closed.
func prepareRunners(env *vrrpEnv, ins []config.VRRPInstance) (map[string]*vrrpRunner, error) {
	runners := map[string]*vrrpRunner{}
	for i := range ins {
		r, err := prepareRunner(env, &ins[i])
		if err != nil {
			for _, r := range runners {
				r.close()
			}
			return nil, err
		}
		runners[r.id] = r
	}
	return runners, nil
}

func vrrpStatus(s vrrp.Status) VRRPStatus {
	out := VRRPStatus{
		Name:              s.Name,
		State:             s.State.String(),
		Priority:          int(s.Priority),
		EffectivePriority: int(s.EffectivePriority),
		Interface:         s.Interface,
		VIPs:              s.VIPs,
		MasterIP:          s.MasterIP,
		AdvertsSent:       s.AdvertsSent,
		AdvertsReceived:   s.AdvertsReceived,
		Drops:             s.Drops,
		AddrMismatches:    s.AddrMismatches,
		Errors:            s.Errors,
		Transitions:       s.Transitions,
		Version:           int(s.Version),
		Family:            s.Family,
		IntervalMismatch:  s.IntervalMismatches,
		VRID:              int(s.VRID),
		BecameMaster:      s.BecameMaster,
		ReleasedMaster:    s.ReleasedMaster,
	}
	if out.VIPs == nil {
		out.VIPs = []string{}
	}
	out.Tracked = trackedStatus(s.Tracked)
	if s.Transitions > 0 {
		out.LastTransition = &TransitionStatus{At: s.LastTransition.At, From: s.LastTransition.From.String(),
			To: s.LastTransition.To.String(), Reason: s.LastTransition.Reason.String()}
	}
	return out
}
