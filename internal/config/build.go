package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsd/lvsd/internal/script"
)

// The second stage turns the raw tree into the typed Config, checking every value and the
// references between blocks. It keeps going after a problem so that all are reported.

type seenAt struct {
	what string
	rng  hcl.Range
}

// build is the typed stage over the merged top level.
func (s *sink) build(top *rawBlock, firstFile string) *Config {
	cfg := &Config{}
	cfg.Global = s.buildGlobal(top.children("global"))
	s.buildScriptBlocks(top, cfg)

	vipOwner := map[netip.Addr]seenAt{} // VIP address -> instance and position
	names := map[string]hcl.Range{}
	vrids := map[string]seenAt{} // "iface/vrid" -> instance
	for _, b := range top.children("vrrp_instance") {
		in, vridAttr := s.buildInstance(b, vipOwner, cfg.Global.VRRPVersion)
		if first, dup := names[in.Name]; dup {
			s.errAt(rangeOf(b), "duplicate vrrp_instance %q (first defined at %s)", in.Name, posOf(first))
			continue
		}
		names[in.Name] = rangeOf(b)
		if vridAttr != nil && in.Interface != "" {
			key := fmt.Sprintf("%s/%d", in.Interface, in.VRID)
			if in.IPv6 { // IPv4 and IPv6 virtual routers are separate (RFC 5798 section 5.2.3)
				key += "/inet6"
			}
			if first, dup := vrids[key]; dup {
				s.errAt(vridAttr.Range, "virtual_router_id %d is already used on %s by %s (at %s)", in.VRID, in.Interface, first.what, posOf(first.rng))
			} else {
				vrids[key] = seenAt{fmt.Sprintf("vrrp_instance %q", in.Name), vridAttr.Range}
			}
		}
		cfg.VRRPInstances = append(cfg.VRRPInstances, in)
	}

	s.buildTracking(top, cfg)

	services := map[string]seenAt{}
	for _, b := range top.children("virtual_server") {
		vs, ok := s.virtualServer(b, vipOwner)
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s %s", vs.Protocol, vs.Addr)
		if vs.IsFWMark() {
			key = fmt.Sprintf("fwmark %d ipv6=%v", vs.FWMark, vs.IPv6)
		}
		if first, dup := services[key]; dup {
			s.errAt(rangeOf(b), "duplicate virtual_server %q: same service as %s (at %s)", vs.Name, first.what, posOf(first.rng))
			continue
		}
		services[key] = seenAt{fmt.Sprintf("virtual_server %q", vs.Name), rangeOf(b)}
		cfg.VirtualServers = append(cfg.VirtualServers, vs)
		// With VRRP in use, a service address that no instance carries is most likely a
		// typo: traffic for it would never reach this director through VRRP.
		if _, isVIP := vipOwner[vs.Addr.Addr()]; len(cfg.VRRPInstances) > 0 && !vs.IsFWMark() && !isVIP {
			s.warnAt(rangeOf(b), "virtual_server address %s is not a virtual_ipaddress of any vrrp_instance", vs.Addr.Addr())
		}
	}

	if s.memo != nil {
		s.memo.done(vipOwner)
	}

	lnNames := map[string]hcl.Range{}
	lnByInstance := map[string]seenAt{}
	lnBuilt := map[*rawBlock]Localnode{}
	for _, b := range top.children("localnode") {
		ln, instAttr, ok := s.buildLocalnode(b, cfg)
		if !ok {
			continue
		}
		if first, dup := lnNames[ln.Name]; dup {
			s.errAt(rangeOf(b), "duplicate localnode %q (first defined at %s)", ln.Name, posOf(first))
			continue
		}
		lnNames[ln.Name] = rangeOf(b)
		if first, dup := lnByInstance[ln.VRRPInstance]; dup && instAttr != nil {
			s.errAt(instAttr.Range, "vrrp_instance %q already has %s (at %s); one localnode per instance", ln.VRRPInstance, first.what, posOf(first.rng))
			continue
		}
		lnByInstance[ln.VRRPInstance] = seenAt{fmt.Sprintf("localnode %q", ln.Name), rangeOf(b)}
		cfg.Localnodes = append(cfg.Localnodes, ln)
		lnBuilt[b] = ln
	}

	syncs := top.children("lvs_sync_daemon")
	for i, b := range syncs {
		if i > 0 {
			s.errAt(b.TypeRange, "duplicate lvs_sync_daemon block (first at %s)", posOf(syncs[0].TypeRange))
			continue
		}
		cfg.SyncDaemon = s.buildSyncDaemon(b, cfg)
	}
	// backup_only only works with a sync daemon in backup state (the kernel ignores the
	// flag otherwise), so the sync daemon must follow the same instance.
	for _, b := range top.children("localnode") {
		ln, ok := lnBuilt[b]
		if !ok || ln.Mode != ModeBackupOnly {
			continue
		}
		switch sd := cfg.SyncDaemon; {
		case sd == nil:
			s.errAt(rangeOf(b), "localnode %q: mode \"backup_only\" needs an lvs_sync_daemon block: the kernel honours net.ipv4.vs.backup_only only while the IPVS sync daemon is in backup state", ln.Name)
		case sd.VRRPInstance != "" && sd.VRRPInstance != ln.VRRPInstance:
			s.errAt(rangeOf(b), "localnode %q follows vrrp_instance %q but lvs_sync_daemon follows %q: mode \"backup_only\" needs both to follow the same instance", ln.Name, ln.VRRPInstance, sd.VRRPInstance)
		}
	}
	s.checkSemantics(top, cfg)
	if len(cfg.VRRPInstances) == 0 && len(cfg.VirtualServers) == 0 && len(top.Blocks) == 0 {
		s.warns = append(s.warns, Diagnostic{File: firstFile, Message: "the configuration defines no vrrp_instance and no virtual_server", Warning: true})
	}
	return cfg
}

func (s *sink) buildGlobal(blocks []*rawBlock) Global {
	g := Global{ControlSocket: DefaultControlSocket, ReconcileInterval: DefaultReconcileInterval, IPVSBackend: IPVSBackends[0],
		VRRPVersion: DefaultVRRPVersion, EnableScriptSecurity: true}
	s.scripts = scriptPolicy{secure: true}
	if h, err := os.Hostname(); err == nil && h != "" {
		g.RouterID = h
	} else {
		g.RouterID = "lvsd"
	}
	for i, b := range blocks {
		if i > 0 {
			s.errAt(b.TypeRange, "duplicate global block (first at %s)", posOf(blocks[0].TypeRange))
			continue
		}
		g.Pos = posOf(b.TypeRange)
		if v, a, ok := s.str(b, "router_id"); ok {
			if strings.TrimSpace(v) == "" {
				s.errAt(a.Range, "router_id must not be empty")
			} else {
				g.RouterID = v
			}
		}
		if v, a, ok := s.str(b, "control_socket"); ok {
			switch {
			case v == "":
				s.errAt(a.Range, "control_socket must not be empty")
			case len(v) > 107:
				s.errAt(a.Range, "control_socket is %d bytes long; a unix socket path may have at most 107", len(v))
			default:
				g.ControlSocket = v
			}
		}
		g.KeepIPVSOnStop = s.boolean(b, "keep_ipvs_on_stop", false)
		g.VRRPVersion = s.vrrpVersion(b, DefaultVRRPVersion)
		g.ReconcileInterval, _, _ = s.duration(b, "reconcile_interval", DefaultReconcileInterval)
		if i, _ := s.enum(b, "ipvs_backend", IPVSBackends); i >= 0 {
			g.IPVSBackend = IPVSBackends[i]
		}
		g.MetricsListen = s.metricsListen(b)
		s.buildScriptGlobal(b, &g)
	}
	return g
}

// command reads a notify/misc command and checks that it splits into argv.
func (s *sink) command(b *rawBlock, name string) (string, []string) {
	v, a, ok := s.str(b, name)
	if !ok {
		return "", nil
	}
	argv, err := script.Split(v)
	if err != nil {
		s.errAt(a.Range, "%s: %v", name, err)
		return "", nil
	}
	s.checkScriptSecurity(a, argv[0], s.scripts.user)
	return v, argv
}

func (s *sink) buildInstance(b *rawBlock, vipOwner map[netip.Addr]seenAt, defVersion int) (VRRPInstance, *rawAttr) {
	in := VRRPInstance{
		Name:             b.Labels[0],
		Priority:         DefaultPriority,
		AdvertInt:        DefaultAdvertInt,
		Preempt:          true,
		GARPMasterDelay:  DefaultGARPMasterDelay,
		GARPMasterRepeat: DefaultGARPMasterRepeat,
		Pos:              posOf(b.TypeRange),
	}
	if strings.TrimSpace(in.Name) == "" {
		s.errAt(rangeOf(b), "vrrp_instance name must not be empty")
	}
	st, stAttr := s.enum(b, "state", []string{"BACKUP", "MASTER"})
	if st == 1 {
		in.InitialState = StateMaster
	}
	if v, a, ok := s.str(b, "interface"); ok {
		if err := checkIfName(v); err != nil {
			s.errAt(a.Range, "interface: %v", err)
		} else {
			in.Interface = v
		}
	}
	vrid, vridAttr, vridOK := s.integer(b, "virtual_router_id", 1, 255, 0)
	in.VRID = uint8(vrid)
	if !vridOK {
		vridAttr = nil
	}
	prio, _, _ := s.integer(b, "priority", 1, 255, DefaultPriority)
	in.Priority = uint8(prio)
	in.VRRPVersion = s.vrrpVersion(b, defVersion)
	in.AdvertInt, _, _ = s.duration(b, advertIntAttr(in.VRRPVersion), DefaultAdvertInt)
	in.AcceptMode = s.boolean(b, "accept_mode", true)
	in.Preempt = s.boolean(b, "preempt", true)
	var pdAttr *rawAttr
	in.PreemptDelay, pdAttr, _ = s.duration(b, "preempt_delay", 0)

	if auths := b.children("authentication"); len(auths) > 0 {
		if in.VRRPVersion == 3 {
			s.errAt(auths[0].TypeRange, "authentication: VRRPv3 has no authentication (RFC 5798); remove the block or set vrrp_version = 2")
		} else {
			s.buildAuth(auths[0], &in)
		}
	}

	vips := s.addVIPs(b, "virtual_ipaddress", &in, vipOwner, false)
	s.addVIPs(b, "virtual_ipaddress_excluded", &in, vipOwner, true)
	if vips == 0 {
		s.warnAt(rangeOf(b), "vrrp_instance %q has no virtual_ipaddress", in.Name)
	}
	s.instanceFamily(b, &in)

	src, srcAttr := s.addr(b, "unicast_src_ip")
	if src.IsValid() && src.Is4() == in.IPv6 {
		s.errAt(srcAttr.Range, "unicast_src_ip must be an %s, got %s", strings.Replace(familyRule(in), " (", " address (", 1), src)
		src = netip.Addr{}
	}
	in.UnicastSrcIP = src
	peers, peerAttr := s.strList(b, "unicast_peer")
	seenPeer := map[netip.Addr]hcl.Range{}
	for _, it := range peers {
		ip, err := parseIP(it.val)
		switch {
		case err != nil:
			s.errAt(it.rng, "unicast_peer: %v", err)
		case ip.Is4() == in.IPv6:
			s.errAt(it.rng, "unicast_peer must be %s, got %s", strings.Replace(familyRule(in), " (", " addresses (", 1), ip)
		case ip == src:
			s.errAt(it.rng, "unicast_peer %s is this router's own unicast_src_ip", ip)
		default:
			if first, dup := seenPeer[ip]; dup {
				s.errAt(it.rng, "duplicate unicast_peer %s (first at %s)", ip, posOf(first))
				continue
			}
			seenPeer[ip] = it.rng
			in.UnicastPeers = append(in.UnicastPeers, ip)
		}
	}
	if srcAttr != nil && peerAttr == nil {
		s.errAt(srcAttr.NameRange, "unicast_src_ip without unicast_peer: unicast needs the peers' addresses")
	}
	// unicast_peer without unicast_src_ip sends from the interface's primary address,
	// found at run time (as keepalived).

	in.GARPMasterDelay, _, _ = s.duration(b, "garp_master_delay", DefaultGARPMasterDelay)
	rep, _, _ := s.integer(b, "garp_master_repeat", 1, 255, DefaultGARPMasterRepeat)
	in.GARPMasterRepeat = int(rep)
	s.buildGARPTimers(b, &in)
	in.NotifyMaster, _ = s.command(b, "notify_master")
	in.NotifyBackup, _ = s.command(b, "notify_backup")
	in.NotifyFault, _ = s.command(b, "notify_fault")
	in.NotifyStop, _ = s.command(b, "notify_stop")
	in.Notify, _ = s.command(b, "notify")

	if in.Priority == 255 && in.InitialState == StateBackup {
		if stAttr != nil {
			s.warnAt(stAttr.Range, "priority 255 makes %q the address owner, which starts as MASTER (RFC 3768); state BACKUP is ignored", in.Name)
		}
		in.InitialState = StateMaster
	}
	if in.InitialState == StateMaster && stAttr != nil {
		if !in.Preempt {
			s.warnAt(b.Attrs["preempt"].Range, "preempt = false has no effect with state MASTER; use state BACKUP on every router")
		}
		if in.PreemptDelay > 0 && pdAttr != nil {
			s.warnAt(pdAttr.Range, "preempt_delay has no effect with state MASTER; use state BACKUP")
		}
	}
	return in, vridAttr
}

func (s *sink) buildAuth(b *rawBlock, in *VRRPInstance) {
	if t, a, ok := s.str(b, "auth_type"); ok {
		switch strings.ToUpper(strings.TrimSpace(t)) {
		case "PASS":
			in.AuthType = AuthPass
		case "AH":
			s.errAt(a.Range, "auth_type \"AH\" is not supported; use \"PASS\" or leave out the authentication block")
			return
		default:
			s.errAt(a.Range, "unknown auth_type %q; use \"PASS\" or leave out the authentication block", t)
			return
		}
	} else {
		return
	}
	pass, a, ok := s.str(b, "auth_pass")
	switch {
	case a == nil:
		s.errAt(b.TypeRange, "authentication: auth_type \"PASS\" needs auth_pass")
	case !ok:
	case pass == "":
		s.errAt(a.Range, "auth_pass must not be empty")
	case len(pass) > MaxAuthPass:
		s.warnAt(a.Range, "auth_pass is %d bytes long; VRRPv2 carries 8, so only %q is used (as keepalived does)", len(pass), pass[:MaxAuthPass])
		in.AuthPass = pass[:MaxAuthPass]
	default:
		in.AuthPass = pass
	}
}

// parseVIP parses "ADDR[/LEN] [dev DEV] [label LABEL]".
func parseVIP(s, iface string) (VIP, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return VIP{}, fmt.Errorf("empty address")
	}
	var vip VIP
	if strings.Contains(f[0], "/") {
		p, err := netip.ParsePrefix(f[0])
		if err != nil {
			return VIP{}, fmt.Errorf("%q is not an address or ADDRESS/LENGTH", f[0])
		}
		vip.Prefix = p
	} else {
		a, err := parseIP(f[0])
		if err != nil {
			return VIP{}, err
		}
		vip.Prefix = netip.PrefixFrom(a, a.BitLen())
	}
	a := vip.Prefix.Addr()
	if a.Zone() != "" {
		return VIP{}, fmt.Errorf("zones are not supported")
	}
	if a.Is4In6() {
		vip.Prefix = netip.PrefixFrom(a.Unmap(), max(vip.Prefix.Bits()-96, 0))
		a = vip.Prefix.Addr()
	}
	if a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || (a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return VIP{}, fmt.Errorf("%s cannot be a virtual address", a)
	}
	for i := 1; i < len(f); i += 2 {
		if i+1 >= len(f) {
			return VIP{}, fmt.Errorf("%q needs a value", f[i])
		}
		switch f[i] {
		case "dev":
			if err := checkIfName(f[i+1]); err != nil {
				return VIP{}, err
			}
			vip.Dev = f[i+1]
		case "label":
			vip.Label = f[i+1]
		default:
			return VIP{}, fmt.Errorf("unknown option %q; options are \"dev\" and \"label\"", f[i])
		}
	}
	if vip.Dev == "" {
		vip.Dev = iface
	}
	if vip.Label != "" {
		switch {
		case len(vip.Label) > 15:
			return VIP{}, fmt.Errorf("label %q is longer than 15 bytes", vip.Label)
		case !a.Is4():
			return VIP{}, fmt.Errorf("labels are for IPv4 addresses only")
		case vip.Dev != "" && vip.Label != vip.Dev && !strings.HasPrefix(vip.Label, vip.Dev+":"):
			return VIP{}, fmt.Errorf("label %q must be the device name %q or start with %q", vip.Label, vip.Dev, vip.Dev+":")
		}
	}
	return vip, nil
}

// parsePort parses a decimal TCP/UDP port.
func parsePort(p string, allowZero bool) (uint16, error) {
	n, err := strconv.ParseUint(p, 10, 32)
	if err != nil || n > 65535 || (n == 0 && !allowZero) {
		if allowZero {
			return 0, portError(fmt.Sprintf("port must be from 0 to 65535, got %q", p))
		}
		return 0, portError(fmt.Sprintf("port must be from 1 to 65535, got %q", p))
	}
	return uint16(n), nil
}

// portError is a port out of range (as opposed to a label that is not ADDRESS:PORT at all).
type portError string

func (e portError) Error() string { return string(e) }

// parseHostPort parses "ADDR:PORT", "[V6]:PORT", or (with defPort >= 0) a bare address.
func parseHostPort(s string, defPort int, allowZero bool) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if a, err := parseIP(s); err == nil {
		if defPort < 0 {
			return netip.AddrPort{}, fmt.Errorf("%q has no port: write ADDRESS:PORT or [IPv6]:PORT", s)
		}
		return netip.AddrPortFrom(a, uint16(defPort)), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not ADDRESS:PORT or [IPv6]:PORT", s)
	}
	a, err := parseIP(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := parsePort(port, allowZero)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, p), nil
}

// parseVSLabel parses "ADDR:PORT", "[V6]:PORT" or "fwmark:N".
func parseVSLabel(label string) (netip.AddrPort, uint32, error) {
	if rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(label)), "fwmark:"); ok {
		n, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
		if err != nil || n == 0 || n > math.MaxUint32 {
			return netip.AddrPort{}, 0, fmt.Errorf("fwmark must be from 1 to 4294967295, got %q", rest)
		}
		return netip.AddrPort{}, uint32(n), nil
	}
	ap, err := parseHostPort(label, -1, false)
	var pe portError
	if errors.As(err, &pe) {
		return netip.AddrPort{}, 0, err
	}
	if err != nil {
		return netip.AddrPort{}, 0, fmt.Errorf("the label must be \"ADDRESS:PORT\", \"[IPv6]:PORT\" or \"fwmark:N\"")
	}
	if a := ap.Addr(); a.IsUnspecified() || a.IsMulticast() {
		return netip.AddrPort{}, 0, fmt.Errorf("%s cannot be a virtual server address", a)
	}
	return ap, 0, nil
}

// timing holds the check settings that a virtual server and a real server pass down.
type timing struct {
	connectTimeout, delayBeforeRetry, warmup, delayLoop *time.Duration
	retry                                               *int
}

func (s *sink) readTiming(b *rawBlock, t timing) timing {
	durs := []struct {
		name string
		dst  **time.Duration
	}{{"connect_timeout", &t.connectTimeout}, {"delay_before_retry", &t.delayBeforeRetry}, {"warmup", &t.warmup}, {"delay_loop", &t.delayLoop}}
	for _, d := range durs {
		if v, _, ok := s.duration(b, d.name, 0); ok {
			*d.dst = &v
		}
	}
	if v, _, ok := s.integer(b, "retry", 0, 100, 0); ok {
		r := int(v)
		t.retry = &r
	}
	return t
}

func orDur(p *time.Duration, def time.Duration) time.Duration {
	if p != nil {
		return *p
	}
	return def
}

var protocols = []string{"TCP", "UDP", "SCTP"}

func (s *sink) buildVirtualServer(b *rawBlock, vipOwner map[netip.Addr]seenAt) (VirtualServer, bool) {
	vs := VirtualServer{Name: b.Labels[0], LBAlgo: DefaultLBAlgo, DelayLoop: DefaultDelayLoop, Quorum: DefaultQuorum, Pos: posOf(b.TypeRange)}
	// A bad label is reported and the body is still checked, so that one typo does not hide
	// the problems after it; the service itself is then left out.
	addr, mark, err := parseVSLabel(vs.Name)
	labelOK := err == nil
	if !labelOK {
		s.errAt(rangeOf(b), "virtual_server %q: %v", vs.Name, err)
	}
	vs.Addr, vs.FWMark = addr, mark
	anyPort := vs.IsFWMark() || !labelOK // real and sorry servers need no port of their own
	if p, _ := s.enum(b, "protocol", protocols); p >= 0 {
		vs.Protocol = Protocol(p)
	}
	if algo, a, ok := s.str(b, "lb_algo"); ok {
		algo = strings.ToLower(strings.TrimSpace(algo))
		known := false
		for _, k := range Schedulers {
			known = known || k == algo
		}
		if known {
			vs.LBAlgo = algo
		} else {
			s.errAt(a.Range, "unknown lb_algo %q; use one of %s", algo, strings.Join(Schedulers, " "))
		}
	}
	if k, _ := s.enum(b, "lb_kind", []string{"NAT", "DR", "TUN"}); k >= 0 {
		vs.LBKind = LBKind(k)
	}
	for _, f := range []struct {
		name, algo string
		dst        *bool
	}{{"sh_port", "sh", &vs.SchedPort}, {"sh_fallback", "sh", &vs.SchedFallback}, {"mh_port", "mh", &vs.SchedPort}, {"mh_fallback", "mh", &vs.SchedFallback}} {
		if !s.boolean(b, f.name, false) {
			continue
		}
		if vs.LBAlgo != f.algo {
			s.errAt(b.Attrs[f.name].NameRange, "%s needs lb_algo %q (lb_algo is %q)", f.name, f.algo, vs.LBAlgo)
			continue
		}
		*f.dst = true
	}
	if vs.OPS = s.boolean(b, "ops", false); vs.OPS && vs.Protocol != ProtoUDP {
		s.errAt(b.Attrs["ops"].NameRange, "ops (one-packet scheduling) needs protocol \"UDP\"")
	}
	vs.PersistenceTimeout, _, _ = s.duration(b, "persistence_timeout", 0)
	// keepalived refuses quorum 0 too: a service that is up with no live real server.
	q, qAttr, qOK := s.integer(b, "quorum", 1, math.MaxInt32, DefaultQuorum)
	vs.Quorum = int(q)
	h, _, _ := s.integer(b, "hysteresis", 0, math.MaxInt32, 0)
	vs.Hysteresis = int(h)
	vs.QuorumUp, _ = s.command(b, "quorum_up")
	vs.QuorumDown, _ = s.command(b, "quorum_down")
	vs.Alpha = s.boolean(b, "alpha", false)
	vs.InhibitOnFailure = s.boolean(b, "inhibit_on_failure", false)
	vs.Virtualhost, _, _ = s.str(b, "virtualhost")
	inherit := s.readTiming(b, timing{}) // delay_loop included
	if inherit.delayLoop != nil {
		vs.DelayLoop = *inherit.delayLoop
	}
	inherit.delayLoop = &vs.DelayLoop

	// Address family: the address's, or for a fwmark service ip_family, else the real servers'.
	fam, famAttr := s.enum(b, "ip_family", []string{"inet", "inet6"})
	switch {
	case labelOK && !vs.IsFWMark():
		vs.IPv6 = vs.Addr.Addr().Is6()
		if famAttr != nil {
			s.errAt(famAttr.NameRange, "ip_family is only for fwmark virtual servers (the address gives the family)")
		}
	case fam >= 0:
		vs.IPv6 = fam == 1
	default:
		for _, rb := range b.children("real_server") {
			if ap, err := parseHostPort(rb.Labels[0], 0, true); err == nil {
				vs.IPv6 = ap.Addr().Is6()
				break
			}
		}
	}
	family := func(v6 bool) string {
		if v6 {
			return "IPv6"
		}
		return "IPv4"
	}

	vs.PersistenceGranularity = net.CIDRMask(32, 32)
	if vs.IPv6 {
		vs.PersistenceGranularity = net.CIDRMask(128, 128)
	}
	if a := b.Attrs["persistence_granularity"]; a != nil {
		if m, err := parseGranularity(a, vs.IPv6); err != nil {
			s.errAt(a.Range, "persistence_granularity: %v", err)
		} else {
			vs.PersistenceGranularity = m
			if vs.PersistenceTimeout == 0 {
				s.warnAt(a.NameRange, "persistence_granularity has no effect without persistence_timeout")
			}
		}
	}

	if sorry, a, ok := s.str(b, "sorry_server"); ok {
		ap, err := parseHostPort(sorry, int(vs.Addr.Port()), anyPort)
		switch {
		case err != nil:
			s.errAt(a.Range, "sorry_server: %v", err)
		case ap.Addr().Is6() != vs.IPv6:
			s.errAt(a.Range, "sorry_server %s is %s but the virtual server is %s", ap.Addr(), family(ap.Addr().Is6()), family(vs.IPv6))
		default:
			vs.SorryServer = &ap
		}
	}

	seen := map[netip.AddrPort]hcl.Range{}
	total := 0
	for _, rb := range b.children("real_server") {
		rs, ok := s.buildRealServer(rb, &vs, anyPort, inherit)
		if !ok || !labelOK {
			continue
		}
		if rs.Addr.Addr().Is6() != vs.IPv6 {
			s.errAt(rangeOf(rb), "real server %s is %s but virtual_server %q is %s", rs.Addr.Addr(), family(rs.Addr.Addr().Is6()), vs.Name, family(vs.IPv6))
			continue
		}
		if first, dup := seen[rs.Addr]; dup {
			s.errAt(rangeOf(rb), "duplicate real_server %s in virtual_server %q (first at %s)", rs.Addr, vs.Name, posOf(first))
			continue
		}
		seen[rs.Addr] = rangeOf(rb)
		if owner, isVIP := vipOwner[rs.Addr.Addr()]; isVIP {
			s.errAt(rangeOf(rb), "real server address %s is a VIP of %s (at %s)", rs.Addr.Addr(), owner.what, posOf(owner.rng))
		}
		if !vs.IsFWMark() && vs.LBKind != LBNAT && rs.Addr.Port() != vs.Addr.Port() {
			s.errAt(rangeOf(rb), "real server port %d differs from the virtual server's port %d; lb_kind %s cannot change the port", rs.Addr.Port(), vs.Addr.Port(), vs.LBKind)
		}
		total += rs.Weight
		vs.RealServers = append(vs.RealServers, rs)
	}
	if len(vs.RealServers) > 0 && vs.Quorum > total && (qOK || qAttr == nil) {
		rng := rangeOf(b)
		if qAttr != nil {
			rng = qAttr.Range
		}
		s.errAt(rng, "quorum %d exceeds the total weight %d of the real servers: the service could never be up", vs.Quorum, total)
	}
	if len(b.children("real_server")) == 0 && vs.SorryServer == nil {
		s.warnAt(rangeOf(b), "virtual_server %q has no real_server and no sorry_server", vs.Name)
	}
	return vs, labelOK
}

// parseGranularity reads a dotted IPv4 netmask or a prefix length.
func parseGranularity(a *rawAttr, v6 bool) (net.IPMask, error) {
	bits := 32
	if v6 {
		bits = 128
	}
	var str string
	switch a.Value.Type() {
	case cty.String:
		str = a.Value.AsString()
	case cty.Number:
		str = fmtNum(a.Value.AsBigFloat())
	default:
		return nil, fmt.Errorf("want a netmask such as \"255.255.255.0\" or a prefix length, got %s", describe(a.Value))
	}
	str = strings.TrimPrefix(strings.TrimSpace(str), "/")
	if n, err := strconv.Atoi(str); err == nil {
		if n < 1 || n > bits {
			return nil, fmt.Errorf("prefix length must be from 1 to %d, got %d", bits, n)
		}
		return net.CIDRMask(n, bits), nil
	}
	ip, err := netip.ParseAddr(str)
	if err != nil || !ip.Is4() {
		if v6 {
			return nil, fmt.Errorf("want a prefix length from 1 to 128 for an IPv6 service, got %q", str)
		}
		return nil, fmt.Errorf("want a netmask such as \"255.255.255.0\" or a prefix length, got %q", str)
	}
	if v6 {
		return nil, fmt.Errorf("want a prefix length from 1 to 128 for an IPv6 service, got %q", str)
	}
	b4 := ip.As4()
	m := net.IPMask(b4[:])
	if ones, _ := m.Size(); ones == 0 {
		return nil, fmt.Errorf("%q is not a contiguous netmask", str)
	}
	return m, nil
}

// buildRealServer checks the body even when the label is bad (and then returns false).
func (s *sink) buildRealServer(b *rawBlock, vs *VirtualServer, anyPort bool, inherit timing) (RealServer, bool) {
	rs := RealServer{Weight: DefaultWeight, Pos: posOf(b.TypeRange)}
	ap, err := parseHostPort(b.Labels[0], int(vs.Addr.Port()), anyPort)
	labelOK := err == nil
	if err != nil {
		s.errAt(rangeOf(b), "real_server %q: %v", b.Labels[0], err)
	} else if a := ap.Addr(); a.IsUnspecified() || a.IsMulticast() {
		// Loopback is allowed: a real server 127.0.0.1 is LVS's classic "local node".
		s.errAt(rangeOf(b), "real_server %q: %s cannot be a real server address", b.Labels[0], a)
		labelOK = false
	} else {
		rs.Addr = ap
	}
	w, _, _ := s.integer(b, "weight", 0, 65535, DefaultWeight)
	rs.Weight = int(w)
	rs.InhibitOnFailure = s.boolean(b, "inhibit_on_failure", vs.InhibitOnFailure)
	rs.NotifyUp, _ = s.command(b, "notify_up")
	rs.NotifyDown, _ = s.command(b, "notify_down")
	u, _, _ := s.integer(b, "uthreshold", 0, math.MaxUint32, 0)
	l, lAttr, _ := s.integer(b, "lthreshold", 0, math.MaxUint32, 0)
	rs.UpperThreshold, rs.LowerThreshold = uint32(u), uint32(l)
	if u > 0 && l > u {
		s.errAt(lAttr.Range, "lthreshold %d is above uthreshold %d", l, u)
	}
	vhost := vs.Virtualhost
	if v, _, ok := s.str(b, "virtualhost"); ok {
		vhost = v
	}
	t := s.readTiming(b, inherit)
	for _, cb := range b.Blocks {
		if c, ok := s.buildCheck(cb, &rs, t, vhost); ok {
			rs.Checks = append(rs.Checks, c)
		}
	}
	return rs, labelOK
}

var checkKinds = map[string]CheckKind{"tcp_check": CheckTCP, "http_get": CheckHTTP, "ssl_get": CheckSSL, "misc_check": CheckMisc}

func (s *sink) buildCheck(b *rawBlock, rs *RealServer, inherit timing, vhost string) (Check, bool) {
	kind, ok := checkKinds[b.Type]
	if !ok {
		return Check{}, false
	}
	c := Check{Kind: kind, Pos: posOf(b.TypeRange), ConnectIP: rs.Addr.Addr(), ConnectPort: rs.Addr.Port(), Virtualhost: vhost}
	t := s.readTiming(b, inherit)
	c.DelayLoop = orDur(t.delayLoop, DefaultDelayLoop)
	c.ConnectTimeout = orDur(t.connectTimeout, DefaultConnectTimeout)
	c.DelayBeforeRetry = orDur(t.delayBeforeRetry, DefaultDelayBeforeRetry)
	if kind == CheckHTTP || kind == CheckSSL {
		c.DelayBeforeRetry = orDur(t.delayBeforeRetry, DefaultHTTPDelayRetry)
	}
	c.Warmup = orDur(t.warmup, c.DelayLoop)
	c.Retry = DefaultRetry
	if kind == CheckMisc {
		c.Retry = 0
	}
	if t.retry != nil {
		c.Retry = *t.retry
	}
	ok = true
	if kind != CheckMisc {
		if ip, a := s.addr(b, "connect_ip"); ip.IsValid() {
			c.ConnectIP = ip
		} else if a != nil {
			ok = false
		}
		if ip, a := s.addr(b, "bindto"); ip.IsValid() {
			c.BindTo = ip
			if c.ConnectIP.IsValid() && ip.Is6() != c.ConnectIP.Is6() {
				s.errAt(a.Range, "bindto %s and the connect address %s are of different families", ip, c.ConnectIP)
				ok = false
			}
		}
		if p, _, set := s.integer(b, "connect_port", 1, 65535, 0); set {
			c.ConnectPort = uint16(p)
		} else if c.ConnectPort == 0 && b.Attrs["connect_port"] == nil && rs.Addr.IsValid() {
			s.errAt(b.TypeRange, "%s needs connect_port: real server %s has no port", b.Type, rs.Addr.Addr())
			ok = false
		}
	}
	switch kind {
	case CheckHTTP, CheckSSL:
		if v, _, set := s.str(b, "virtualhost"); set {
			c.Virtualhost = v
		}
		c.EnableSNI = s.boolean(b, "enable_sni", false)
		urls := b.children("url")
		if len(urls) == 0 {
			s.errAt(b.TypeRange, "%s needs at least one url { path = \"/...\" }", b.Type)
			ok = false
		}
		for _, ub := range urls {
			if u, uok := s.buildURL(ub); uok {
				c.URLs = append(c.URLs, u)
			}
		}
	case CheckMisc:
		c.MiscPath, c.MiscArgv = s.command(b, "misc_path")
		c.MiscTimeout = c.DelayLoop
		if d, _, set := s.duration(b, "misc_timeout", 0); set {
			c.MiscTimeout = d
		}
		c.MiscDynamic = s.boolean(b, "misc_dynamic", false)
	}
	return c, ok
}

func (s *sink) buildURL(b *rawBlock) (URL, bool) {
	u := URL{StatusCodes: []StatusRange{{200, 299}}}
	ok := true
	if p, a, set := s.str(b, "path"); set {
		if p == "" || strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			s.errAt(a.Range, "path %q must be non-empty, without blanks or control characters", p)
			ok = false
		}
		u.Path = p
	} else {
		ok = false
	}
	if v, _, set := s.str(b, "virtualhost"); set {
		u.Virtualhost = v
	}
	if d, a, set := s.str(b, "digest"); set {
		d = strings.ToLower(strings.TrimSpace(d))
		if len(d) != 32 || strings.Trim(d, "0123456789abcdef") != "" {
			s.errAt(a.Range, "digest must be 32 hexadecimal digits (an MD5 sum), got %q", d)
			ok = false
		}
		u.Digest = d
	}
	if a := b.Attrs["status_code"]; a != nil {
		codes, sok := s.statusCodes(a)
		if sok {
			u.StatusCodes = codes
		} else {
			ok = false
		}
	}
	return u, ok
}

// statusCodes reads 200, "200", "200-299" or a list of those.
func (s *sink) statusCodes(a *rawAttr) ([]StatusRange, bool) {
	tmp := &rawBlock{Attrs: map[string]*rawAttr{"status_code": a}}
	items, _ := s.strList(tmp, "status_code")
	if len(items) == 0 {
		if a.Value.Type().IsTupleType() && a.Value.LengthInt() == 0 {
			s.errAt(a.Range, "status_code must not be an empty list")
		}
		return nil, false
	}
	var out []StatusRange
	ok := true
	for _, it := range items {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(it.val), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(strings.TrimSpace(lo))
		h, err2 := strconv.Atoi(strings.TrimSpace(hi))
		switch {
		case err1 != nil || err2 != nil:
			s.errAt(it.rng, "status_code must be a code such as 200 or a range such as \"200-299\", got %q", it.val)
			ok = false
		case l < 100 || l > 599 || h < 100 || h > 599:
			s.errAt(it.rng, "status_code must be from 100 to 599, got %q", it.val)
			ok = false
		case l > h:
			s.errAt(it.rng, "status_code range %q is reversed", it.val)
			ok = false
		default:
			out = append(out, StatusRange{l, h})
		}
	}
	return out, ok
}

var localnodeModes = []string{"fwmark", "bypass", "backup_only"}

func (s *sink) buildLocalnode(b *rawBlock, cfg *Config) (Localnode, *rawAttr, bool) {
	ln := Localnode{Name: b.Labels[0], Pos: posOf(b.TypeRange)}
	ok := true
	var inst *VRRPInstance
	name, instAttr, set := s.str(b, "vrrp_instance")
	if set {
		if inst = cfg.Instance(name); inst == nil {
			s.errAt(instAttr.Range, "vrrp_instance %q does not exist%s", name, suggest(name, instanceNames(cfg)))
			ok = false
		}
		ln.VRRPInstance = name
	} else {
		ok = false
	}
	mode, _ := s.enum(b, "mode", localnodeModes)
	if mode < 0 {
		ok = false
	}
	ln.Mode = LocalnodeMode(max(mode, 0))
	if ip, a := s.addr(b, "vip"); ip.IsValid() {
		ln.VIP = ip
		if inst != nil && !hasVIP(inst, ip) {
			s.errAt(a.Range, "vip %s is not a virtual_ipaddress of vrrp_instance %q", ip, inst.Name)
			ok = false
		}
	} else if a != nil {
		ok = false
	}
	p, _, _ := s.integer(b, "port", 0, 65535, 0)
	ln.Port = uint16(p)
	if pr, _ := s.enum(b, "protocol", protocols); pr >= 0 {
		ln.Protocol = Protocol(pr)
	}
	if str, a, set := s.str(b, "peer_mac"); set {
		mac, err := net.ParseMAC(strings.TrimSpace(str))
		if err != nil || len(mac) != 6 {
			s.errAt(a.Range, "peer_mac: bad MAC address %q; want six hex bytes such as \"08:00:27:e1:3c:c5\"", str)
			ok = false
		} else {
			ln.PeerMAC = mac
		}
	}
	mark, markAttr, _ := s.integer(b, "fwmark", 1, math.MaxUint32, 0)
	ln.FWMark = uint32(mark)
	if mode < 0 {
		return ln, instAttr, false
	}
	need := func(attr string) {
		if b.Attrs[attr] == nil && !b.bad[attr] {
			s.errAt(b.TypeRange, "localnode %q: mode %q needs %s", ln.Name, ln.Mode, attr)
			ok = false
		}
	}
	unused := func(attr string) {
		if a := b.Attrs[attr]; a != nil {
			s.warnAt(a.NameRange, "%s is only used in mode \"fwmark\"; it is ignored in mode %q", attr, ln.Mode)
		}
	}
	switch ln.Mode {
	case ModeFWMark:
		need("vip")
		need("peer_mac")
		need("fwmark")
		if ln.FWMark != 0 && !hasFWMarkService(cfg, ln.FWMark) {
			s.errAt(markAttr.Range, "no virtual_server \"fwmark:%d\" to balance the packets this localnode marks", ln.FWMark)
			ok = false
		}
	case ModeBypass:
		need("vip")
		unused("peer_mac")
		unused("fwmark")
	case ModeBackupOnly:
		unused("peer_mac")
		unused("fwmark")
	}
	return ln, instAttr, ok
}

func instanceNames(cfg *Config) []string {
	out := make([]string, len(cfg.VRRPInstances))
	for i, in := range cfg.VRRPInstances {
		out[i] = in.Name
	}
	return out
}

func hasVIP(in *VRRPInstance, ip netip.Addr) bool {
	for _, v := range in.VIPs {
		if v.Prefix.Addr() == ip {
			return true
		}
	}
	return false
}

func hasFWMarkService(cfg *Config, mark uint32) bool {
	for _, vs := range cfg.VirtualServers {
		if vs.FWMark == mark {
			return true
		}
	}
	return false
}

func (s *sink) buildSyncDaemon(b *rawBlock, cfg *Config) *SyncDaemon {
	sd := &SyncDaemon{Pos: posOf(b.TypeRange)}
	if v, a, ok := s.str(b, "interface"); ok {
		if err := checkIfName(v); err != nil {
			s.errAt(a.Range, "interface: %v", err)
		}
		sd.Interface = v
	}
	var inst *VRRPInstance
	if name, a, ok := s.str(b, "vrrp_instance"); ok {
		if inst = cfg.Instance(name); inst == nil {
			s.errAt(a.Range, "vrrp_instance %q does not exist%s", name, suggest(name, instanceNames(cfg)))
		}
		sd.VRRPInstance = name
	}
	def := int64(0)
	if inst != nil {
		def = int64(inst.VRID)
	}
	id, _, _ := s.integer(b, "sync_id", 0, 255, def)
	sd.SyncID = uint8(id)
	return sd
}
