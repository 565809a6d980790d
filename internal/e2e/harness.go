// Package e2e runs lvsd as a black box: real `lvsd run` processes (and Debian's keepalived,
// for interop) inside network namespaces of an internal/netns lab, observed only through
// `lvsd status`, the addresses in each namespace and ARP from a client namespace. The
// tests are in *_test.go; this file is the harness, shared with internal/bench/failover.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// Addresses of the standard topology: two routers and a client on one bridge.
const (
	R1IP     = "10.79.0.1"
	R2IP     = "10.79.0.2"
	ClientIP = "10.79.0.10"
	VIP      = "10.79.0.100"
	Prefix   = "/24"
)

// Topology is the standard lab: routers r1 and r2 and a client, all on one bridge.
type Topology struct {
	Lab            *netns.Lab
	R1, R2, Client *netns.Host
}

// NewTopology adds r1, r2 and a client to lab.
func NewTopology(lab *netns.Lab) (*Topology, error) {
	t := &Topology{Lab: lab}
	var err error
	if t.R1, err = lab.AddHost("r1", R1IP+Prefix); err != nil {
		return nil, err
	}
	if t.R2, err = lab.AddHost("r2", R2IP+Prefix); err != nil {
		return nil, err
	}
	if t.Client, err = lab.AddHost("c", ClientIP+Prefix); err != nil {
		return nil, err
	}
	return t, nil
}

// Spec is one VRRP instance as both lvsd and keepalived are told.
type Spec struct {
	Name      string // instance name, default VI_1
	State     string // MASTER or BACKUP (default BACKUP)
	Interface string // default eth0
	VRID      int    // default 51
	Priority  int
	Version   int     // vrrp_version; 0 leaves the default (2)
	AdvertInt float64 // seconds, default 1
	NoAccept  bool    // lvsd accept_mode = false
	NoPreempt bool    // keepalived's nopreempt
	AuthPass  string  // PASS authentication when set
	VIPs      []string
	SrcIP     string   // unicast_src_ip
	Peers     []string // unicast_peer
	Track     []string // track_interface
	Extra     string   // appended to the lvsd config as is (e.g. a localnode block)
	Inside    string   // added inside the lvsd vrrp_instance block as is (e.g. track_script)
}

func (s Spec) withDefaults() Spec {
	if s.Name == "" {
		s.Name = "VI_1"
	}
	if s.State == "" {
		s.State = "BACKUP"
	}
	if s.Interface == "" {
		s.Interface = "eth0"
	}
	if s.VRID == 0 {
		s.VRID = 51
	}
	if s.AdvertInt == 0 {
		s.AdvertInt = 1
	}
	if len(s.VIPs) == 0 {
		s.VIPs = []string{VIP + "/32"}
	}
	return s
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// LvsdConfig renders an lvsd HCL config with one vrrp_instance (docs/contract.md schema).
func LvsdConfig(routerID, socket string, s Spec) string {
	return LvsdConfigMulti(routerID, socket, s)
}

// LvsdConfigMulti renders an lvsd HCL config with one vrrp_instance per spec, in order.
func LvsdConfigMulti(routerID, socket string, specs ...Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global {\n  router_id = %q\n  control_socket = %q\n}\n", routerID, socket)
	for _, s := range specs {
		b.WriteString("\n")
		b.WriteString(lvsdInstance(s))
	}
	return b.String()
}

// lvsdInstance renders s as a vrrp_instance block, followed by s.Extra.
func lvsdInstance(s Spec) string {
	s = s.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "vrrp_instance %q {\n", s.Name)
	fmt.Fprintf(&b, "  state = %q\n  interface = %q\n  virtual_router_id = %d\n  priority = %d\n  advert_int = %g\n",
		s.State, s.Interface, s.VRID, s.Priority, s.AdvertInt)
	if s.Version != 0 {
		fmt.Fprintf(&b, "  vrrp_version = %d\n", s.Version)
	}
	if s.NoAccept {
		b.WriteString("  accept_mode = false\n")
	}
	fmt.Fprintf(&b, "  preempt = %v\n", !s.NoPreempt)
	if s.AuthPass != "" {
		fmt.Fprintf(&b, "  authentication {\n    auth_type = \"PASS\"\n    auth_pass = %q\n  }\n", s.AuthPass)
	}
	fmt.Fprintf(&b, "  virtual_ipaddress = %s\n", quoteList(s.VIPs))
	if s.SrcIP != "" {
		fmt.Fprintf(&b, "  unicast_src_ip = %q\n", s.SrcIP)
	}
	if len(s.Peers) > 0 {
		fmt.Fprintf(&b, "  unicast_peer = %s\n", quoteList(s.Peers))
	}
	if len(s.Track) > 0 {
		fmt.Fprintf(&b, "  track_interface = %s\n", quoteList(s.Track))
	}
	b.WriteString(s.Inside)
	b.WriteString("}\n")
	b.WriteString(s.Extra)
	return b.String()
}

// KeepalivedConfig renders the same instance for keepalived.
func KeepalivedConfig(routerID string, s Spec) string {
	s = s.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n", routerID)
	if s.Version != 0 {
		fmt.Fprintf(&b, "  vrrp_version %d\n", s.Version)
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "vrrp_instance %s {\n  state %s\n  interface %s\n  virtual_router_id %d\n  priority %d\n  advert_int %g\n",
		s.Name, s.State, s.Interface, s.VRID, s.Priority, s.AdvertInt)
	if s.NoPreempt {
		b.WriteString("  nopreempt\n")
	}
	if s.AuthPass != "" {
		fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", s.AuthPass)
	}
	fmt.Fprintf(&b, "  virtual_ipaddress {\n    %s\n  }\n", strings.Join(s.VIPs, "\n    "))
	if s.SrcIP != "" {
		fmt.Fprintf(&b, "  unicast_src_ip %s\n", s.SrcIP)
	}
	if len(s.Peers) > 0 {
		fmt.Fprintf(&b, "  unicast_peer {\n    %s\n  }\n", strings.Join(s.Peers, "\n    "))
	}
	if len(s.Track) > 0 {
		fmt.Fprintf(&b, "  track_interface {\n    %s\n  }\n", strings.Join(s.Track, "\n    "))
	}
	b.WriteString("}\n")
	return b.String()
}

// BuildLvsd returns the lvsd binary to run: $LVSD_BIN if set, else a fresh `go build` of
// ./cmd/lvsd into dir (so the tests do not depend on `make build` having run).
func BuildLvsd(dir string) (string, error) {
	if p := os.Getenv("LVSD_BIN"); p != "" {
		return p, nil
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	out := filepath.Join(dir, "lvsd")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/lvsd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/lvsd: %w\n%s", err, b)
	}
	return out, nil
}

// Lvsd is one `lvsd run` process in a namespace.
type Lvsd struct {
	Bin    string // the lvsd binary it runs (its CLI talks to it)
	Host   *netns.Host
	Proc   *netns.Proc
	Socket string
	Config string
}

// StartLvsd writes the config for s under dir (a directory of its own per process) and
// starts `lvsd run` in h's namespace.
func StartLvsd(bin string, h *netns.Host, dir string, s Spec) (*Lvsd, error) {
	return StartLvsdHCL(bin, h, dir, func(socket string) string { return LvsdConfig(h.Name, socket, s) })
}

// StartLvsdMulti is StartLvsd with one vrrp_instance per spec.
func StartLvsdMulti(bin string, h *netns.Host, dir string, specs ...Spec) (*Lvsd, error) {
	return StartLvsdHCL(bin, h, dir, func(socket string) string { return LvsdConfigMulti(h.Name, socket, specs...) })
}

// StartLvsdHCL is StartLvsd with a config of the caller's: render gets the control socket
// path to put in it.
func StartLvsdHCL(bin string, h *netns.Host, dir string, render func(socket string) string) (*Lvsd, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "lvsd.hcl")
	if err := os.WriteFile(config, []byte(render(filepath.Join(dir, "lvsd.sock"))), 0o644); err != nil {
		return nil, err
	}
	return StartLvsdConfig(bin, h, dir, config)
}

// StartLvsdConfig starts `lvsd run --config config` in h's namespace, with its control
// socket in dir.
func StartLvsdConfig(bin string, h *netns.Host, dir, config string) (*Lvsd, error) {
	l := &Lvsd{Bin: bin, Host: h, Socket: filepath.Join(dir, "lvsd.sock"), Config: config}
	p, err := h.Start(bin, "run", "--config", l.Config, "--socket", l.Socket, "--log-level", "debug")
	if err != nil {
		return nil, err
	}
	l.Proc = p
	return l, nil
}

// Status is the part of `lvsd status --json` the tests read (docs/contract.md).
type Status struct {
	VRRP       []VRRPStatus      `json:"vrrp"`
	Localnodes []LocalnodeStatus `json:"localnodes"`
	IPVS       *IPVSStatus       `json:"ipvs"`
}

// IPVSStatus is the reconciler's part of Status.
type IPVSStatus struct {
	Ops     int `json:"ops"`               // operations of the last pass
	Applied int `json:"applied_ops_total"` // operations applied since start
	Owned   int `json:"owned_services"`
}

// LocalnodeStatus is one localnode block in `lvsd status --json`.
type LocalnodeStatus struct {
	Name      string `json:"name"`
	Mode      string `json:"mode"`
	Role      string `json:"role"`
	Installed bool   `json:"installed"`
	Error     string `json:"error"`
}

// VRRPStatus is one instance in Status.
type VRRPStatus struct {
	Name              string            `json:"name"`
	State             string            `json:"state"`
	Priority          int               `json:"priority"`
	EffectivePriority int               `json:"effective_priority"`
	Interface         string            `json:"interface"`
	VIPs              []string          `json:"vips"`
	MasterIP          string            `json:"master_ip"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	Drops             map[string]uint64 `json:"drops"`
	Transitions       uint64            `json:"transitions"`
	Version           int               `json:"vrrp_version"`
	Family            string            `json:"family"`
	Tracked           []TrackedStatus   `json:"tracked"`
	LastTransition    *TransitionStatus `json:"last_transition"`
}

// TrackedStatus is one tracked item of an instance in Status.
type TrackedStatus struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	State  string `json:"state"`
	Effect string `json:"effect"`
}

// TransitionStatus is an instance's most recent state change and its cause.
type TransitionStatus struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Status asks the daemon over its control socket (HTTP GET /status, what `lvsd status`
// does, without a process per poll).
func (l *Lvsd) Status() (Status, error) {
	c := http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", l.Socket)
		}},
	}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://lvsd/status")
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("status: HTTP %s", resp.Status)
	}
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// Instance returns the status of instance name.
func (l *Lvsd) Instance(name string) (VRRPStatus, error) {
	st, err := l.Status()
	if err != nil {
		return VRRPStatus{}, err
	}
	for _, v := range st.VRRP {
		if v.Name == name {
			return v, nil
		}
	}
	return VRRPStatus{}, fmt.Errorf("no vrrp instance %q in status", name)
}

// WaitState polls until instance name is in state, the process exits, or timeout passes.
func (l *Lvsd) WaitState(name, state string, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	var last VRRPStatus
	var lastErr error
	for {
		select {
		case <-l.Proc.Exited():
			return fmt.Errorf("lvsd in %s exited while waiting for %s", l.Host.Name, state)
		default:
		}
		last, lastErr = l.Instance(name)
		if lastErr == nil && last.State == state {
			return nil
		}
		if time.Now().After(end) {
			if lastErr != nil {
				return fmt.Errorf("lvsd in %s: %s not %s after %v: %w", l.Host.Name, name, state, timeout, lastErr)
			}
			return fmt.Errorf("lvsd in %s: %s is %s after %v, want %s", l.Host.Name, name, last.State, timeout, state)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Keepalived is one keepalived process (VRRP only) in a namespace, with its own config and
// pid files so that it touches nothing outside the test's directory.
type Keepalived struct {
	Host        *netns.Host
	Proc        *netns.Proc
	Conf        string
	PidFile     string
	VRRPPidFile string
}

// StartKeepalived starts `keepalived -n -l -D -P -R` for s in h's namespace.
func StartKeepalived(h *netns.Host, dir string, s Spec) (*Keepalived, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(KeepalivedConfig(h.Name, s)), 0o644); err != nil {
		return nil, err
	}
	return StartKeepalivedConf(h, dir, conf)
}

// StartKeepalivedConf starts keepalived (VRRP only) with the configuration file conf in
// h's namespace, its pid files in dir; args are added to its command line (e.g. -i ID).
func StartKeepalivedConf(h *netns.Host, dir, conf string, args ...string) (*Keepalived, error) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		return nil, fmt.Errorf("keepalived is not installed (make deps installs it): %w", err)
	}
	k := &Keepalived{Host: h, Conf: conf,
		PidFile: filepath.Join(dir, "keepalived.pid"), VRRPPidFile: filepath.Join(dir, "vrrp.pid")}
	// -n foreground, -l log to stderr, -D detailed log, -P VRRP only, -R do not respawn
	// the VRRP child (a SIGKILLed child must stay dead).
	p, err := h.Start("keepalived", append([]string{"-n", "-l", "-D", "-P", "-R", "-f", k.Conf, "-p", k.PidFile, "-r", k.VRRPPidFile}, args...)...)
	if err != nil {
		return nil, err
	}
	k.Proc = p
	return k, nil
}

// VRRPPID returns the PID of keepalived's VRRP child, waiting up to 5 s for its pid file.
func (k *Keepalived) VRRPPID() (int, error) {
	end := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(k.VRRPPidFile)
		if err == nil {
			var pid int
			if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
				return pid, nil
			}
		}
		if time.Now().After(end) {
			return 0, fmt.Errorf("keepalived VRRP pid file %s: %v", k.VRRPPidFile, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// KillHard SIGKILLs the VRRP child (no priority-0 advert, no cleanup: the process is just
// gone) and then the parent.
func (k *Keepalived) KillHard() error {
	pid, err := k.VRRPPID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill keepalived VRRP child %d: %w", pid, err)
	}
	k.Proc.Kill()
	return nil
}

// Stop stops keepalived gracefully (SIGTERM to the parent) and waits up to 10 s.
func (k *Keepalived) Stop() error {
	if err := k.Proc.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if done, _ := k.Proc.Wait(10 * time.Second); !done {
		k.Cleanup()
		return fmt.Errorf("keepalived in %s did not stop within 10 s of SIGTERM", k.Host.Name)
	}
	return nil
}

// Cleanup kills whatever is left of this keepalived (the VRRP child by its pid file, then
// the parent). Safe to call more than once.
func (k *Keepalived) Cleanup() {
	if b, err := os.ReadFile(k.VRRPPidFile); err == nil {
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 && isKeepalived(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	k.Proc.Kill()
}

// isKeepalived guards against a recycled PID: only a keepalived process is killed.
func isKeepalived(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(b)) == "keepalived"
}

// Log is what keepalived wrote so far.
func (k *Keepalived) Log() string { return k.Proc.Output() }

// HasVIP reports whether h holds ip on dev.
func HasVIP(h *netns.Host, dev, ip string) bool {
	ok, err := h.HasAddr(dev, ip)
	return err == nil && ok
}

// WaitVIP polls until h holds (present) or does not hold ip on its interface.
func WaitVIP(h *netns.Host, ip string, present bool, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		if HasVIP(h, h.If, ip) == present {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: VIP %s present=%v after %v, want %v", h.Name, ip, !present, timeout, present)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ARPFrom polls ARP for ip from the client until a reply comes from mac; it returns when.
func ARPFrom(s *netns.ARPSocket, ip string, mac string, timeout time.Duration) (time.Time, error) {
	addr := netip.MustParseAddr(ip)
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if err := s.Request(addr); err != nil {
			return time.Time{}, err
		}
		wait := time.Now().Add(20 * time.Millisecond)
		for {
			p, err := s.Read(wait)
			if err != nil {
				break
			}
			if p.Op == 2 && p.SenderIP == addr && p.SenderMAC.String() == mac {
				return time.Now(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("no ARP reply for %s from %s within %v", ip, mac, timeout)
}
