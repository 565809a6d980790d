// Package daemon wires the configured parts of lvsd together (VRRP instances, the IPVS
// reconciler, health checks, localnode rules) and serves their state on the control socket.
package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
)

// Status is the daemon's view served on the control socket and printed by `lvsd status`.
// The JSON shape is part of the user-facing contract (docs/contract.md): fields may be
// added, never renamed.
type Status struct {
	RouterID       string                `json:"router_id"`
	Version        string                `json:"version"`
	StartedAt      time.Time             `json:"started_at"`
	VRRP           []VRRPStatus          `json:"vrrp"`
	VirtualServers []VirtualServerStatus `json:"virtual_servers"`
	IPVS           *IPVSStatus           `json:"ipvs,omitempty"`
	Sysctls        []SysctlStatus        `json:"sysctls,omitempty"`
	Localnodes     []LocalnodeStatus     `json:"localnodes,omitempty"`
	Config         *ConfigStatus         `json:"config,omitempty"` // start and reloads
	VRRPScripts    []VRRPScriptStatus    `json:"vrrp_scripts,omitempty"`
	SyncGroups     []SyncGroupStatus     `json:"sync_groups,omitempty"`
}

// VRRPStatus is one vrrp_instance.
type VRRPStatus struct {
	Name              string            `json:"name"`
	State             string            `json:"state"` // INIT, BACKUP, MASTER, FAULT
	Priority          int               `json:"priority"`
	EffectivePriority int               `json:"effective_priority"`
	Interface         string            `json:"interface"`
	VIPs              []string          `json:"vips"`
	MasterIP          string            `json:"master_ip"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Drops             map[string]uint64 `json:"drops"`
	AddrMismatches    uint64            `json:"addr_mismatches"` // accepted adverts whose VIP list differs from ours
	Errors            map[string]uint64 `json:"errors"`          // failed effects: send, add_vip, remove_vip, garp, recv
	Transitions       uint64            `json:"transitions"`
	LastTransition    *TransitionStatus `json:"last_transition,omitempty"`
	Version           int               `json:"vrrp_version"`        // 2 or 3
	Family            string            `json:"family"`              // inet or inet6
	IntervalMismatch  uint64            `json:"interval_mismatches"` // accepted VRRPv3 adverts with another interval
	VRID              int               `json:"virtual_router_id"`
	BecameMaster      uint64            `json:"became_master"`   // transitions into MASTER
	ReleasedMaster    uint64            `json:"released_master"` // transitions out of MASTER
	Tracked           []TrackedStatus   `json:"tracked,omitempty"`
}

// TransitionStatus is the most recent state change of an instance and its cause.
type TransitionStatus struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// VirtualServerStatus is one virtual_server block and its real servers.
type VirtualServerStatus struct {
	Name        string             `json:"name"` // the block label as written
	Protocol    string             `json:"protocol"`
	Scheduler   string             `json:"lb_algo"`
	Kind        string             `json:"lb_kind"`
	QuorumUp    bool               `json:"quorum_up"`
	SorryServer string             `json:"sorry_server,omitempty"`
	SorryActive bool               `json:"sorry_server_active"`
	RealServers []RealServerStatus `json:"real_servers"`
	Address     string             `json:"address,omitempty"` // the VIP; "" for a fwmark service
	Port        int                `json:"port,omitempty"`
	FWMark      uint32             `json:"fwmark,omitempty"`
	// The number of real servers and of the healthy ones: what a summary shows instead of
	// the list.
	RealServersTotal int `json:"real_servers_total"`
	RealServersUp    int `json:"real_servers_up"`
}

// IPVSStatus is the reconciler's last pass over the kernel's IPVS table.
type IPVSStatus struct {
	Backend       string        `json:"backend"`
	LastReconcile time.Time     `json:"last_reconcile,omitzero"`
	Took          time.Duration `json:"took_ns"`
	Ops           int           `json:"ops"`    // operations the last pass attempted (0: in sync)
	Failed        int           `json:"failed"` // of which failed
	Error         string        `json:"error,omitempty"`
	Owned         int           `json:"owned_services"`
	Applied       int           `json:"applied_ops_total"`
}

// RealServerStatus is one real server: its configured and effective weight and health.
type RealServerStatus struct {
	Address    string        `json:"address"` // IP:PORT or [IPv6]:PORT
	Weight     int           `json:"weight"`  // effective weight (0 when inhibited)
	Healthy    bool          `json:"healthy"`
	LastCheck  time.Time     `json:"last_check,omitzero"`
	LastResult string        `json:"last_result,omitempty"`
	Latency    time.Duration `json:"latency_ns,omitempty"`
	Failures   int           `json:"failures"`
	// CheckDurations counts how long its health checks took (a cumulative histogram).
	CheckDurations healthcheck.Histogram `json:"check_durations"`
	// Kernel is what the kernel's IPVS table counts for it (nil when not in the kernel).
	Kernel *KernelCounters `json:"kernel,omitempty"`
}

// SysctlStatus is one director kernel setting lvsd applied at start.
type SysctlStatus struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	Error  string `json:"error,omitempty"`
}

// LocalnodeStatus is one localnode block and whether its rules are installed.
type LocalnodeStatus struct {
	Name      string `json:"name"`
	Mode      string `json:"mode"`
	Role      string `json:"role"`
	Installed bool   `json:"installed"`
	Error     string `json:"error,omitempty"`
}

// TrackedStatus is one tracked item of a vrrp_instance (track_script, track_interface,
// track_file).
type TrackedStatus struct {
	Kind    string `json:"kind"` // script, interface, file
	Name    string `json:"name"`
	Weight  int    `json:"weight"`
	Reverse bool   `json:"reverse,omitempty"`
	// State: "ok", "failed", "unknown" (no result yet, or the script is missing), or a
	// track file's value.
	State string `json:"state"`
	// Effect on the instance: "fault", "+N"/"-N" (priority adjustment) or "none".
	Effect string `json:"effect"`
}

// VRRPScriptStatus is one vrrp_script that is running (tracked by some instance).
type VRRPScriptStatus struct {
	Name     string `json:"name"`
	Up       bool   `json:"up"` // its rise/fall state is OK (false while missing)
	Runs     uint64 `json:"runs"`
	LastExit int    `json:"last_exit"` // -1: timed out, killed or could not start
	TimedOut bool   `json:"timed_out"`
	Missing  bool   `json:"missing,omitempty"` // not on this machine: ignored, as keepalived
}

// SyncGroupStatus is one vrrp_sync_group.
type SyncGroupStatus struct {
	Name      string   `json:"name"`
	State     string   `json:"state"`
	Instances []string `json:"instances"`
}

// CountRealServers sets the real server counts of each virtual server that lists its real
// servers (a summary has only the counts). A client calls it too: a daemon older than the
// counts sends only the lists.
func CountRealServers(vss []VirtualServerStatus) {
	for i := range vss {
		vs := &vss[i]
		if vs.RealServers == nil {
			continue
		}
		vs.RealServersTotal, vs.RealServersUp = len(vs.RealServers), 0
		for j := range vs.RealServers {
			if vs.RealServers[j].Healthy {
				vs.RealServersUp++
			}
		}
	}
}

// StatusFormat says how WriteStatus lays out the status document.
type StatusFormat struct {
	// Summary leaves out each virtual server's real_servers list (its counts stay).
	Summary bool
	// Indent, when set, indents as json.MarshalIndent(st, "", Indent) would.
	Indent string
}

// statusHead is a Status without its virtual servers, which WriteStatus writes after it
// one by one. The nil field shadows the embedded one.
type statusHead struct {
	*Status
	VirtualServers []VirtualServerStatus `json:"virtual_servers,omitempty"`
}

// virtualServerSummary is a virtual server without its list of real servers.
type virtualServerSummary struct {
	*VirtualServerStatus
	RealServers []RealServerStatus `json:"real_servers,omitempty"`
}

// WriteStatus writes st as one JSON object, virtual_servers last (an empty list, never null). Each virtual server is
// encoded and written on its own: a table of tens of thousands of real servers is never
// held encoded in memory as a whole, and the reader gets the first bytes at once.
func WriteStatus(w io.Writer, st *Status, f StatusFormat) error {
	head, err := marshalStatusPart(statusHead{Status: st}, "", f.Indent)
	if err != nil {
		return err
	}
	// head is a non-empty object (router_id is never omitted): drop its closing brace and
	// go on with one more member.
	head = bytes.TrimRight(head[:len(head)-1], "\n")
	nl, in1, in2, colon := "", "", "", ":"
	if f.Indent != "" {
		nl, in1, in2, colon = "\n", f.Indent, f.Indent+f.Indent, ": "
	}
	if _, err := fmt.Fprintf(w, "%s,%s%s\"virtual_servers\"%s[", head, nl, in1, colon); err != nil {
		return err
	}
	for i := range st.VirtualServers {
		var v any = &st.VirtualServers[i]
		if f.Summary {
			v = virtualServerSummary{VirtualServerStatus: &st.VirtualServers[i]}
		}
		b, err := marshalStatusPart(v, in2, f.Indent)
		if err != nil {
			return err
		}
		lead := nl + in2
		if i > 0 {
			lead = "," + lead
		}
		if _, err := io.WriteString(w, lead); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	tail := "]" + nl + "}\n"
	if len(st.VirtualServers) > 0 {
		tail = nl + in1 + tail
	}
	_, err = io.WriteString(w, tail)
	return err
}

func marshalStatusPart(v any, prefix, indent string) ([]byte, error) {
	var b []byte
	var err error
	if indent == "" {
		b, err = json.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, prefix, indent)
	}
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return b, nil
}
