package lvs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Sysctl is one kernel setting the director needs, with why.
type Sysctl struct {
	Key    string // dotted, e.g. net.ipv4.ip_forward
	Value  string
	Reason string
}

// SysctlResult is a Sysctl after an attempt to apply it.
type SysctlResult struct {
	Sysctl
	Applied bool
	Err     error
}

func (r SysctlResult) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%s=%s FAILED (%v): %s", r.Key, r.Value, r.Err, r.Reason)
	}
	return fmt.Sprintf("%s=%s applied: %s", r.Key, r.Value, r.Reason)
}

// DirectorSysctls returns the settings a director needs for the forwarding methods in use
// (the lb_kind of every virtual server) and its interfaces (those carrying VIPs or facing
// the real servers). Pure: the table below is the whole policy.
//
//	NAT: replies from the real servers come back through the director and must be routed.
//	DR:  the director sends a client's packet back out of the interface it came in on;
//	     without this the kernel also tells the client (ICMP redirect) to go to the real
//	     server's MAC directly, which breaks balancing. Set for all, default and each
//	     interface, because the kernel ORs all with the interface's value.
//	TUN: nothing: IPIP encapsulation leaves through the local output path, neither routed
//	     nor redirected.
func DirectorSysctls(kinds []Forward, ifaces []string) []Sysctl {
	var out []Sysctl
	if slices.Contains(kinds, NAT) {
		out = append(out, Sysctl{"net.ipv4.ip_forward", "1",
			"LVS-NAT: replies from the real servers are routed back through the director"})
	}
	if slices.Contains(kinds, DR) {
		why := "LVS-DR: no ICMP redirects for packets the director sends back out of the interface they came in on"
		out = append(out,
			Sysctl{"net.ipv4.conf.all.send_redirects", "0", why},
			Sysctl{"net.ipv4.conf.default.send_redirects", "0", why})
		seen := map[string]bool{}
		for _, ifc := range ifaces {
			if ifc == "" || seen[ifc] {
				continue
			}
			seen[ifc] = true
			// A dotted interface name (eth0.100) stays as is: SysctlPath knows.
			out = append(out, Sysctl{"net.ipv4.conf." + ifc + ".send_redirects", "0", why})
		}
	}
	return out
}

// SysctlWriter writes one kernel setting.
type SysctlWriter interface {
	WriteSysctl(key, value string) error
}

// ProcSys writes settings under /proc/sys (Root, default "/proc/sys"): effective in the
// network namespace of the writing process.
type ProcSys struct{ Root string }

var _ SysctlWriter = ProcSys{}

// SysctlPath maps a dotted key to its /proc/sys path; the interface part of a
// net.ipv4.conf.IFACE.NAME key may itself contain dots.
func SysctlPath(root, key string) string {
	if root == "" {
		root = "/proc/sys"
	}
	for _, p := range []string{"net.ipv4.conf.", "net.ipv6.conf."} {
		if rest, ok := strings.CutPrefix(key, p); ok {
			if i := strings.LastIndexByte(rest, '.'); i > 0 {
				return filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(p, ".", "/")), rest[:i], rest[i+1:])
			}
		}
	}
	return filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
}

// WriteSysctl writes value to the key's file.
func (p ProcSys) WriteSysctl(key, value string) error {
	path := SysctlPath(p.Root, key)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ApplySysctls writes every setting and reports each one; it does not stop at a failure.
func ApplySysctls(w SysctlWriter, settings []Sysctl) []SysctlResult {
	out := make([]SysctlResult, len(settings))
	for i, s := range settings {
		err := w.WriteSysctl(s.Key, s.Value)
		out[i] = SysctlResult{Sysctl: s, Applied: err == nil, Err: err}
	}
	return out
}
