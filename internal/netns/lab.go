// Package netns is a test lab of Linux network namespaces: hosts in their own namespaces,
// each with an eth0 plugged into one bridge that lives in a dedicated "switch" namespace.
// Every name carries a prefix unique to the run, and Close deletes exactly those names.
// The host's own namespace is never changed: links are created inside lab namespaces only
// (`ip -n NS ...`), never in the caller's.
package netns

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// TB is the part of testing.TB the lab uses (kept small so that non-test programs, such as
// the failover benchmark, can use the lab too).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
}

// ShortChecker is implemented by callers that know about `go test -short`; testing.T does
// it through the testing package, see RequireRoot.
type ShortChecker interface{ Short() bool }

// Lab is one run's set of namespaces.
type Lab struct {
	Prefix string // e.g. "lv3f09a1"; every namespace name starts with it
	Switch string // the namespace holding the bridge
	Bridge string // the bridge's name inside Switch
	// IfName is the name AddHost gives each host's interface, "eth0" by default. Tests
	// that run effects in-process set it to something unique (e.g. Prefix) so that a bug
	// acting in the wrong namespace finds no such device instead of the host's eth0.
	IfName string

	mu    sync.Mutex
	hosts []*Host
	procs []*Proc
	nss   []string
	done  bool
}

// Host is one namespace plugged into the lab's bridge.
type Host struct {
	Lab  *Lab
	Name string // short name given by the caller, e.g. "a"
	NS   string // namespace name: Lab.Prefix + "-" + Name
	If   string // the interface inside NS, "eth0"
	Port string // the bridge port in the switch namespace
	// MAC of If, read after creation.
	MAC string
}

// NewLab creates the switch namespace with its bridge. Call Close when done.
func NewLab() (*Lab, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("lab prefix: %w", err)
	}
	l := &Lab{Prefix: "lv" + hex.EncodeToString(b[:]), Bridge: "br0", IfName: "eth0"}
	l.Switch = l.Prefix + "-sw"
	if err := l.addNS(l.Switch); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"-n", l.Switch, "link", "add", l.Bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"},
		{"-n", l.Switch, "link", "set", l.Bridge, "up"},
		{"-n", l.Switch, "link", "set", "lo", "up"},
	} {
		if _, err := IP(args...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// New is NewLab for tests: it fails t on error and deletes the lab in t.Cleanup, also when
// the test fails. Call RequireRoot first.
func New(t TB) *Lab {
	t.Helper()
	l, err := NewLab()
	if err != nil {
		t.Fatalf("netns lab: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

// RequireRoot skips t under -short or when not root: the lab needs CAP_NET_ADMIN and
// CAP_SYS_ADMIN.
func RequireRoot(t TB, short bool) {
	t.Helper()
	if short {
		t.Skipf("network namespace test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skipf("network namespace test: needs root")
	}
}

func (l *Lab) addNS(name string) error {
	if _, err := IP("netns", "add", name); err != nil {
		return err
	}
	l.mu.Lock()
	l.nss = append(l.nss, name)
	l.mu.Unlock()
	// Quiet the lab: no IPv6 (no DAD, router solicitations or MLD reports in captures).
	// This is a sysctl of the new namespace, not of the host.
	_, _ = Exec(name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	if _, err := IP("-n", name, "link", "set", "lo", "up"); err != nil {
		return err
	}
	return nil
}

// AddHost creates namespace Prefix-name with eth0 plugged into the bridge and the given
// addresses ("10.1.0.1/24") on eth0, all up.
func (l *Lab) AddHost(name string, addrs ...string) (*Host, error) {
	h := &Host{Lab: l, Name: name, NS: l.Prefix + "-" + name, If: l.IfName, Port: "p-" + name}
	if len(h.Port) > 15 {
		return nil, fmt.Errorf("host name %q too long for a link name", name)
	}
	if err := l.addNS(h.NS); err != nil {
		return nil, err
	}
	cmds := [][]string{
		{"-n", l.Switch, "link", "add", h.Port, "type", "veth", "peer", "name", h.If, "netns", h.NS},
		{"-n", l.Switch, "link", "set", h.Port, "master", l.Bridge},
		{"-n", l.Switch, "link", "set", h.Port, "up"},
	}
	for _, a := range addrs {
		cmds = append(cmds, []string{"-n", h.NS, "addr", "add", a, "dev", h.If})
	}
	cmds = append(cmds, []string{"-n", h.NS, "link", "set", h.If, "up"})
	for _, c := range cmds {
		if _, err := IP(c...); err != nil {
			return nil, err
		}
	}
	out, err := IP("-n", h.NS, "-br", "link", "show", "dev", h.If)
	if err != nil {
		return nil, err
	}
	if f := strings.Fields(out); len(f) >= 3 {
		h.MAC = f[2]
	}
	l.mu.Lock()
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()
	return h, nil
}

// MustAddHost is AddHost failing t on error.
func (l *Lab) MustAddHost(t TB, name string, addrs ...string) *Host {
	t.Helper()
	h, err := l.AddHost(name, addrs...)
	if err != nil {
		t.Fatalf("lab host %s: %v", name, err)
	}
	return h
}

// Close kills the processes the lab started and deletes its namespaces (which deletes the
// links in them). It is safe to call more than once.
func (l *Lab) Close() {
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		return
	}
	l.done = true
	procs, nss := l.procs, l.nss
	l.mu.Unlock()
	for _, p := range procs {
		p.Kill()
	}
	// Hosts first, the switch last.
	for i := len(nss) - 1; i >= 0; i-- {
		_, _ = IP("netns", "del", nss[i])
	}
}

// IP runs the ip(8) command with args and returns its output.
func IP(args ...string) (string, error) {
	return run("ip", args...)
}

// Exec runs a command inside namespace ns and returns its combined output.
func Exec(ns string, name string, args ...string) (string, error) {
	return run("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Exec runs a command in the host's namespace.
func (h *Host) Exec(name string, args ...string) (string, error) {
	return Exec(h.NS, name, args...)
}

// IP runs `ip -n NS args...`.
func (h *Host) IP(args ...string) (string, error) {
	return IP(append([]string{"-n", h.NS}, args...)...)
}

// AddVethPair adds a veth pair name/peer inside the host's namespace, both ends up (this
// kernel has no dummy links; a pair works as an extra interface, e.g. for
// track_interface tests: taking peer down takes name's carrier down).
func (h *Host) AddVethPair(name, peer string) error {
	if _, err := h.IP("link", "add", name, "type", "veth", "peer", "name", peer); err != nil {
		return err
	}
	for _, n := range []string{name, peer} {
		if _, err := h.IP("link", "set", n, "up"); err != nil {
			return err
		}
	}
	return nil
}

// SetLink sets link dev in the host's namespace up or down.
func (h *Host) SetLink(dev string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	_, err := h.IP("link", "set", dev, state)
	return err
}

// SetPort sets the host's bridge port (its cable, seen from the switch) up or down.
func (h *Host) SetPort(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	_, err := IP("-n", h.Lab.Switch, "link", "set", h.Port, state)
	return err
}

// HasAddr reports whether ip (IPv4 or IPv6, without prefix) is on dev in the host's
// namespace.
func (h *Host) HasAddr(dev, ip string) (bool, error) {
	out, err := h.IP("-o", "addr", "show", "dev", dev)
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if (f[i] == "inet" || f[i] == "inet6") && strings.SplitN(f[i+1], "/", 2)[0] == ip {
				return true, nil
			}
		}
	}
	return false, nil
}

var errLabClosed = errors.New("netns lab is closed")

// EnableIPv6 turns IPv6 back on in h's namespace (the lab turns it off to keep captures
// quiet), without duplicate address detection so that the link-local address and every
// address added later are usable at once. This is a sysctl of the lab's namespace only.
func (h *Host) EnableIPv6() error {
	_, err := h.Exec("sysctl", "-q", "-w",
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
		"net.ipv6.conf."+h.If+".accept_dad=0",
		"net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
		"net.ipv6.conf."+h.If+".disable_ipv6=0")
	return err
}
