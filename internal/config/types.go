// Package config reads lvsd's HCL configuration (keepalived's keyword names) and turns it
// into a validated, typed Config. Decoding and validation are pure: the only side effects are
// reading the files and, for the router_id default, os.Hostname.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Pos is where something was written in the configuration.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Defaults, as keepalived's where keepalived has the keyword.
const (
	DefaultControlSocket     = "/run/lvsd/lvsd.sock"
	DefaultReconcileInterval = 5 * time.Second
	DefaultPriority          = 100
	DefaultAdvertInt         = time.Second
	DefaultVRRPVersion       = 2
	DefaultGARPMasterDelay   = 5 * time.Second
	DefaultGARPMasterRepeat  = 5
	DefaultLBAlgo            = "wlc"
	DefaultDelayLoop         = 60 * time.Second
	DefaultQuorum            = 1
	DefaultWeight            = 1
	DefaultConnectTimeout    = 5 * time.Second
	DefaultRetry             = 1 // tcp_check, http_get, ssl_get; misc_check: 0
	DefaultDelayBeforeRetry  = time.Second
	DefaultHTTPDelayRetry    = 3 * time.Second // http_get and ssl_get
	MaxAuthPass              = 8               // bytes carried by a VRRPv2 advert
)

// Config is the whole validated configuration.
type Config struct {
	Global         Global
	VRRPInstances  []VRRPInstance
	VirtualServers []VirtualServer
	Localnodes     []Localnode
	SyncDaemon     *SyncDaemon     // nil when absent
	VRRPScripts    []VRRPScript    // vrrp_script blocks
	TrackFiles     []VRRPTrackFile // vrrp_track_file blocks
	SyncGroups     []SyncGroup     // vrrp_sync_group blocks
	// Warnings are things keepalived accepts but that are dubious (Warning set on each).
	Warnings Diagnostics
	// Files are the files read, in merge order.
	Files []string
}

// Global is the `global` block.
type Global struct {
	RouterID          string // default: os.Hostname()
	ControlSocket     string // default DefaultControlSocket
	KeepIPVSOnStop    bool
	ReconcileInterval time.Duration // default 5s: how often the IPVS reconciler repairs drift
	IPVSBackend       string        // "batched" (default) or "moby": see IPVSBackends
	VRRPVersion       int           // default vrrp_version of the instances: 2 (default) or 3
	MetricsListen     string        // host:port of the Prometheus /metrics endpoint; "" = off
	// ScriptUser runs every script (notify*, misc_check, vrrp_script) unless a block names
	// its own user; "" = root, as keepalived's script_user default.
	ScriptUser string
	// EnableScriptSecurity (default true) refuses a script that would run as root while
	// its file or a directory above it is writable by another user; false only warns.
	EnableScriptSecurity bool
	Pos                  Pos // zero when the block is absent
}

// State is a VRRP instance's configured initial state.
type State uint8

const (
	StateBackup State = iota // default
	StateMaster
)

func (s State) String() string {
	if s == StateMaster {
		return "MASTER"
	}
	return "BACKUP"
}

// AuthType is the VRRPv2 authentication type.
type AuthType uint8

const (
	AuthNone AuthType = iota
	AuthPass          // simple text password, RFC 2338 type 1
)

func (a AuthType) String() string {
	if a == AuthPass {
		return "PASS"
	}
	return "none"
}

// VIP is one virtual_ipaddress entry: "ADDR[/LEN] [dev DEV] [label LABEL]".
type VIP struct {
	Prefix netip.Prefix // address with its prefix length (default /32, /128); not masked
	Dev    string       // default: the instance's interface
	Label  string       // optional, e.g. "eth0:0"
	// Excluded: from virtual_ipaddress_excluded, not advertised (either family).
	Excluded bool
}

func (v VIP) String() string {
	s := v.Prefix.String() + " dev " + v.Dev
	if v.Label != "" {
		s += " label " + v.Label
	}
	return s
}

// VRRPInstance is a `vrrp_instance "NAME"` block.
type VRRPInstance struct {
	Name             string
	InitialState     State
	Interface        string
	VRID             uint8
	Priority         uint8         // 1-255, default 100; 255 = address owner
	AdvertInt        time.Duration // whole seconds 1-255 (VRRPv2) or 0.01-40.95 s (VRRPv3), default 1s
	Preempt          bool          // default true
	PreemptDelay     time.Duration // 0-1000s
	AuthType         AuthType
	AuthPass         string       // at most 8 bytes (longer values are truncated with a warning)
	VIPs             []VIP        // virtual_ipaddress, then virtual_ipaddress_excluded (Excluded set)
	UnicastSrcIP     netip.Addr   // invalid (zero) for multicast
	UnicastPeers     []netip.Addr // empty for multicast
	TrackInterfaces  []string
	GARPMasterDelay  time.Duration // default 5s; 0 = no second burst
	GARPMasterRepeat int           // default 5
	// VRRPVersion is 2 or 3 (default global.vrrp_version). IPv6 is VRRPv3 only: the
	// instance's family is that of its advertised VIPs (IPv6 reports IPv6).
	VRRPVersion int
	IPv6        bool
	// AcceptMode (RFC 5798 Accept_Mode, keepalived accept/no_accept): when false a
	// non-owner MASTER drops packets addressed to its VIPs. Default true.
	AcceptMode bool
	// Tracking (see Track): TrackInterfaceWeights has one entry per TrackInterfaces name,
	// in the same order; TrackScripts and TrackFiles name vrrp_script and vrrp_track_file
	// blocks with the weight resolved (the entry's override, else the block's).
	TrackInterfaceWeights []Track
	TrackScripts          []Track
	TrackFiles            []Track
	// GARPLowerPrioRepeat / GARPLowerPrioDelay: the GARP burst sent when, as MASTER, we
	// hear a lower-priority master (split brain healed), and the delay of a second burst
	// (0 = none). Defaults: the global vrrp_garp_lower_prio_*, else garp_master_repeat /
	// garp_master_delay. GARPMasterRefresh: periodic GARP burst while MASTER (0 = none).
	GARPLowerPrioRepeat int
	GARPLowerPrioDelay  time.Duration
	GARPMasterRefresh   time.Duration
	// Notify hooks: raw command strings (already checked with script.Split), "" when unset.
	NotifyMaster, NotifyBackup, NotifyFault, NotifyStop, Notify string
	Pos                                                         Pos
}

// Protocol is a virtual service's L4 protocol.
type Protocol uint8

const (
	ProtoTCP Protocol = iota // default
	ProtoUDP
	ProtoSCTP
)

func (p Protocol) String() string {
	switch p {
	case ProtoUDP:
		return "UDP"
	case ProtoSCTP:
		return "SCTP"
	}
	return "TCP"
}

// LBKind is the LVS forwarding method.
type LBKind uint8

const (
	LBNAT LBKind = iota // default (masquerading)
	LBDR                // direct routing (gatewaying)
	LBTUN               // IP-in-IP tunnelling
)

func (k LBKind) String() string {
	switch k {
	case LBDR:
		return "DR"
	case LBTUN:
		return "TUN"
	}
	return "NAT"
}

// IPVSBackends are the ways lvsd talks to IPVS over generic netlink: "batched" (default)
// sends many operations per syscall and dumps every real server in one pass; "moby" uses
// github.com/moby/ipvs, one request and one 64 KiB receive buffer per operation, about 4x
// slower on large tables. Both read and write the same kernel state.
var IPVSBackends = []string{"batched", "moby"}

// Schedulers are the lb_algo values the kernel's IPVS knows.
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"}

// VirtualServer is a `virtual_server "ADDR:PORT"` or `virtual_server "fwmark:N"` block.
type VirtualServer struct {
	Name     string         // the label exactly as written
	Addr     netip.AddrPort // zero for a fwmark service
	FWMark   uint32         // 0 unless a fwmark service
	IPv6     bool           // address family (for fwmark: ip_family, else the real servers')
	Protocol Protocol
	LBAlgo   string // one of Schedulers, default "wlc"
	// Scheduler flags: sh_fallback/mh_fallback (IP_VS_SVC_F_SCHED1) and sh_port/mh_port
	// (IP_VS_SVC_F_SCHED2); only allowed with lb_algo sh or mh.
	SchedFallback, SchedPort bool
	OPS                      bool // one-packet scheduling, UDP only
	LBKind                   LBKind
	PersistenceTimeout       time.Duration // 0 = no persistence
	PersistenceGranularity   net.IPMask    // 4 bytes (IPv4) or 16 bytes (IPv6); default all ones
	DelayLoop                time.Duration // default 60s
	SorryServer              *netip.AddrPort
	Quorum                   int // default 1
	Hysteresis               int
	QuorumUp, QuorumDown     string // hooks run when quorum is regained / lost (raw commands)
	Alpha                    bool   // real servers start DOWN until a check passes
	InhibitOnFailure         bool   // default for the real servers
	Virtualhost              string
	RealServers              []RealServer
	Pos                      Pos
}

// IsFWMark reports whether the service is selected by firewall mark.
func (vs *VirtualServer) IsFWMark() bool { return vs.FWMark != 0 }

// RealServer is a `real_server "ADDR[:PORT]"` block.
type RealServer struct {
	Addr             netip.AddrPort // port defaults to the virtual server's
	Weight           int            // 0-65535, default 1
	InhibitOnFailure bool           // inherits the virtual server's
	NotifyUp         string         // raw command, "" when unset
	NotifyDown       string
	UpperThreshold   uint32 // uthreshold: max connections, 0 = unlimited
	LowerThreshold   uint32 // lthreshold
	Checks           []Check
	Pos              Pos
}

// CheckKind is the type of a health check.
type CheckKind uint8

const (
	CheckTCP  CheckKind = iota // tcp_check
	CheckHTTP                  // http_get
	CheckSSL                   // ssl_get
	CheckMisc                  // misc_check
)

func (k CheckKind) String() string {
	switch k {
	case CheckHTTP:
		return "http_get"
	case CheckSSL:
		return "ssl_get"
	case CheckMisc:
		return "misc_check"
	}
	return "tcp_check"
}

// Check is one health checker of a real server, with every default resolved
// (checker, then real server, then virtual server, then keepalived's default).
type Check struct {
	Kind             CheckKind
	ConnectIP        netip.Addr // default: the real server's address
	ConnectPort      uint16     // default: the real server's port
	BindTo           netip.Addr // zero = kernel's choice
	ConnectTimeout   time.Duration
	Retry            int
	DelayBeforeRetry time.Duration
	Warmup           time.Duration // random delay before the first check, up to this; 0 = none
	DelayLoop        time.Duration
	// http_get / ssl_get
	URLs        []URL
	Virtualhost string // Host header, "" = connect address
	EnableSNI   bool   // ssl_get
	// misc_check
	MiscPath    string   // raw command
	MiscArgv    []string // MiscPath split by script.Split
	MiscTimeout time.Duration
	MiscDynamic bool
	Pos         Pos
}

// URL is one `url { }` of an http_get or ssl_get check.
type URL struct {
	Path        string
	StatusCodes []StatusRange // default [{200 299}]
	Digest      string        // lowercase md5 hex of the body, "" = not checked
	Virtualhost string        // overrides the check's
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// LocalnodeMode is how a two-box cluster avoids looping packets.
type LocalnodeMode uint8

const (
	ModeFWMark     LocalnodeMode = iota // mark client packets unless from the peer director's MAC
	ModeBypass                          // on BACKUP, redirect VIP traffic to the local service
	ModeBackupOnly                      // net.ipv4.vs.backup_only while BACKUP
)

func (m LocalnodeMode) String() string {
	switch m {
	case ModeBypass:
		return "bypass"
	case ModeBackupOnly:
		return "backup_only"
	}
	return "fwmark"
}

// Localnode is a `localnode "NAME"` block.
type Localnode struct {
	Name         string
	VRRPInstance string
	Mode         LocalnodeMode
	VIP          netip.Addr // invalid (zero) when not given (backup_only)
	Port         uint16     // 0 = every port
	Protocol     Protocol
	PeerMAC      net.HardwareAddr // fwmark mode
	FWMark       uint32           // fwmark mode
	Pos          Pos
}

// SyncDaemon is the `lvs_sync_daemon` block.
type SyncDaemon struct {
	Interface    string
	VRRPInstance string
	SyncID       uint8 // default: the instance's virtual_router_id
	Pos          Pos
}

// Instance returns the named VRRP instance, or nil.
func (c *Config) Instance(name string) *VRRPInstance {
	for i := range c.VRRPInstances {
		if c.VRRPInstances[i].Name == name {
			return &c.VRRPInstances[i]
		}
	}
	return nil
}

// Summary is a one-line description such as "2 vrrp instances, 3 virtual servers, 7 real servers".
func (c *Config) Summary() string {
	rs := 0
	for _, vs := range c.VirtualServers {
		rs += len(vs.RealServers)
	}
	parts := []string{
		plural(len(c.VRRPInstances), "vrrp instance", "vrrp instances"),
		plural(len(c.VirtualServers), "virtual server", "virtual servers"),
		plural(rs, "real server", "real servers"),
	}
	if n := len(c.Localnodes); n > 0 {
		parts = append(parts, plural(n, "localnode", "localnodes"))
	}
	if c.SyncDaemon != nil {
		parts = append(parts, "sync daemon")
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Tracking weights, as keepalived's: -253..253 for scripts and interfaces, -254..254 for
// track files (a file's value is multiplied by the weight).
const (
	MaxTrackWeight        = 253
	MaxTrackFileWeight    = 254
	DefaultScriptInterval = time.Second
	DefaultScriptRise     = 1
	DefaultScriptFall     = 1
)

// Track is one tracked item of a vrrp_instance: a track_script, track_interface or
// track_file entry "NAME [weight N [reverse]]", with the weight resolved. Weight 0: a
// failure puts the instance in FAULT; > 0: added to the priority while it succeeds; < 0:
// added while it fails. Reverse swaps success and failure for the weight.
type Track struct {
	Name    string
	Weight  int
	Reverse bool
	Pos     Pos
}

// VRRPScript is a `vrrp_script "NAME"` block.
type VRRPScript struct {
	Name     string
	Script   string        // raw command
	Argv     []string      // Script split by script.Split (no shell)
	Interval time.Duration // default 1s
	Timeout  time.Duration // default: Interval
	Weight   int           // -253..253, default 0
	Reverse  bool
	Rise     int    // consecutive successes to turn OK, default 1
	Fall     int    // consecutive failures to turn KO, default 1
	User     string // "" = global script_user
	InitFail bool   // start failed until the first result
	Pos      Pos
}

// VRRPTrackFile is a `vrrp_track_file "NAME"` block: File holds an integer that, multiplied
// by Weight, is added to the priority (weight 0: a non-zero value is a FAULT).
type VRRPTrackFile struct {
	Name    string
	File    string
	Weight  int // -254..254, default 0
	Reverse bool
	Pos     Pos
}

// SyncGroup is a `vrrp_sync_group "NAME"` block: its instances change state together and
// one in FAULT puts all in FAULT.
type SyncGroup struct {
	Name      string
	Instances []string
	// Notify hooks: raw commands, "" when unset; called as `script GROUP NAME STATE`
	// (notify) or without arguments (notify_master, notify_backup, notify_fault).
	NotifyMaster, NotifyBackup, NotifyFault, Notify string
	TrackScripts                                    []Track // weight ignored: failure = FAULT of the group
	Pos                                             Pos
}

// Script returns the named vrrp_script, or nil.
func (c *Config) Script(name string) *VRRPScript {
	for i := range c.VRRPScripts {
		if c.VRRPScripts[i].Name == name {
			return &c.VRRPScripts[i]
		}
	}
	return nil
}

// TrackFile returns the named vrrp_track_file, or nil.
func (c *Config) TrackFile(name string) *VRRPTrackFile {
	for i := range c.TrackFiles {
		if c.TrackFiles[i].Name == name {
			return &c.TrackFiles[i]
		}
	}
	return nil
}

// SyncGroupOf returns the sync group the named instance belongs to, or nil.
func (c *Config) SyncGroupOf(instance string) *SyncGroup {
	for i := range c.SyncGroups {
		for _, n := range c.SyncGroups[i].Instances {
			if n == instance {
				return &c.SyncGroups[i]
			}
		}
	}
	return nil
}
