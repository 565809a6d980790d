package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
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
	return vrrp.NewConn(in.Interface, in.UnicastSrcIP, in.UnicastPeers)
}

// hookNotifier runs an instance's notify scripts in transition order, as keepalived does:
// the state's own script (notify_master, notify_backup, notify_fault, notify_stop) and
// then `notify` with INSTANCE NAME STATE PRIORITY. Other reactions to a transition
// (localnode rules) run first, through next.
type hookNotifier struct {
	cfg   *config.VRRPInstance
	queue *script.Queue
	next  []func(state vrrp.State)
}

func (n *hookNotifier) Notify(instance string, state vrrp.State, priority uint8) {
	for _, f := range n.next {
		f(state)
	}
	stateName := state.String()
	var own string
	switch state {
	case vrrp.StateMaster:
		own = n.cfg.NotifyMaster
	case vrrp.StateBackup:
		own = n.cfg.NotifyBackup
	case vrrp.StateFault:
		own = n.cfg.NotifyFault
	case vrrp.StateInit: // the engine signals its stop as INIT
		own = n.cfg.NotifyStop
		stateName = "STOP"
	}
	if own != "" {
		_ = n.queue.Enqueue(own) // errors are logged by the queue
	}
	if n.cfg.Notify != "" {
		_ = n.queue.Enqueue(n.cfg.Notify, "INSTANCE", instance, stateName, strconv.Itoa(int(priority)))
	}
}

// vrrpRunner is one instance with the effects it owns.
type vrrpRunner struct {
	inst  *vrrp.Instance
	conn  vrrp.Conn // owned by inst once it runs; closed by close() if it never does
	queue *script.Queue
}

// close releases a runner that was prepared but never run.
func (r *vrrpRunner) close() {
	r.conn.Close()
	r.queue.Close(context.Background())
}

// newVRRP prepares every instance: it resolves interfaces and source addresses and opens
// the raw sockets. ctx stops the link watchers; hooksCtx, which must outlive the
// instances so that notify_stop still runs, owns the hook queues. Nothing on the system changes here (no VIP, no advert), so a failure
// leaves the machine as it was.
func newVRRP(ctx, hooksCtx context.Context, cfg *config.Config, links vrrp.LinkWatcher, addrs vrrp.Addresses,
	garp vrrp.Announcer, reactions func(name string) []func(vrrp.State), log *slog.Logger) ([]*vrrpRunner, error) {
	var runners []*vrrpRunner
	closeAll := func() {
		for _, r := range runners {
			r.close()
		}
	}
	for i := range cfg.VRRPInstances {
		in := &cfg.VRRPInstances[i]
		where := fmt.Sprintf("vrrp_instance %q (%s)", in.Name, in.Pos)
		if _, err := net.InterfaceByName(in.Interface); err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: interface %q: %w", where, in.Interface, err)
		}
		for _, t := range in.TrackInterfaces {
			if _, err := net.InterfaceByName(t); err != nil {
				closeAll()
				return nil, fmt.Errorf("%s: track_interface %q: %w", where, t, err)
			}
		}
		primary, err := sourceAddr(in)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if err := ownAddressIsVIP(in, primary); err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		conn, err := openVRRPConn(in, primary)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		ilog := log.With("instance", in.Name)
		queue := script.NewQueue(hooksCtx, ilog.With("component", "hooks"), hookTimeout)
		accept, err := acceptModeReactions(in, ilog)
		if err != nil {
			conn.Close()
			queue.Close(context.Background())
			closeAll()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		notifier := &hookNotifier{cfg: in, queue: queue, next: append(reactions(in.Name), accept...)}
		icfg := instanceConfig(in, primary)
		ch, err := links.Watch(ctx, vrrp.WatchedLinks(icfg))
		if err != nil {
			conn.Close()
			queue.Close(context.Background())
			closeAll()
			return nil, fmt.Errorf("%s: watch links: %w", where, err)
		}
		inst, err := vrrp.NewInstance(icfg, vrrp.Deps{
			Conn: conn, Addresses: addrs, Announcer: garp, Notifier: notifier, Links: ch, Log: log,
		})
		if err != nil {
			conn.Close()
			queue.Close(context.Background())
			closeAll()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		runners = append(runners, &vrrpRunner{inst: inst, conn: conn, queue: queue})
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
	if s.Transitions > 0 {
		out.LastTransition = &TransitionStatus{At: s.LastTransition.At, From: s.LastTransition.From.String(),
			To: s.LastTransition.To.String(), Reason: s.LastTransition.Reason.String()}
	}
	return out
}
