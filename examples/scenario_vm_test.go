//go:build vmtest

package examples_test

// The examples run for real: each test builds the tutorial's lab in network namespaces (same
// interface names and addresses as the example), prepares the real servers with the
// `lvsd realserver setup` as the example's README says, runs `lvsd run --config examples/<x>/director.hcl` in the
// director's namespace and sends HTTP requests to the VIP from a client namespace.
// IPVS is needed, so these tests carry the vmtest tag and run inside the VM:
//
//	go run ./internal/vmtest/cmd/vmtest -suite examples

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

type scenario struct {
	t         *testing.T
	lab       *netns.Lab
	directors []*netns.Host // where lvsd runs: their IPVS state is logged on failure
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	requireRoot(t)
	// In the VM only (vmtest tag): the guest's kernel, not the host's.
	if out, err := exec.Command("modprobe", "ip_vs").CombinedOutput(); err != nil {
		t.Fatalf("modprobe ip_vs: %v\n%s", err, out)
	}
	return &scenario{t: t, lab: netns.New(t)}
}

// bridge adds a bridge to the lab's switch namespace (the lab's own is "br0").
func (s *scenario) bridge(name string) {
	s.t.Helper()
	s.ip("-n", s.lab.Switch, "link", "add", name, "type", "bridge", "stp_state", "0", "forward_delay", "0")
	s.ip("-n", s.lab.Switch, "link", "set", name, "up")
}

// host adds namespace name with interface ifname on bridge br and addresses cidrs.
func (s *scenario) host(name, ifname, br string, cidrs ...string) *netns.Host {
	s.t.Helper()
	s.lab.IfName = ifname
	h := s.lab.MustAddHost(s.t, name, cidrs...)
	if br != "br0" {
		s.ip("-n", s.lab.Switch, "link", "set", h.Port, "master", br)
	}
	return h
}

// addIf gives h a second interface ifname on bridge br.
func (s *scenario) addIf(h *netns.Host, ifname, br string, cidrs ...string) {
	s.t.Helper()
	port := "q-" + h.Name + "-" + ifname
	if len(port) > 15 {
		port = port[:15]
	}
	s.ip("-n", s.lab.Switch, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", h.NS)
	s.ip("-n", s.lab.Switch, "link", "set", port, "master", br, "up")
	for _, c := range cidrs {
		s.ip("-n", h.NS, "addr", "add", c, "dev", ifname)
	}
	s.ip("-n", h.NS, "link", "set", ifname, "up")
}

func (s *scenario) ip(args ...string) string {
	s.t.Helper()
	out, err := netns.IP(args...)
	if err != nil {
		s.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func (s *scenario) in(h *netns.Host, name string, args ...string) string {
	s.t.Helper()
	out, err := netns.Exec(h.NS, name, args...)
	if err != nil {
		s.t.Fatalf("%s: %s %s: %v\n%s", h.Name, name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// realserver prepares h as the examples' READMEs say, with `lvsd realserver setup --vip
// VIP` (plus args, e.g. --mode tun), starts its web server, and checks the result with
// `lvsd realserver check --port 80`, which exits 1 on any finding.
func (s *scenario) realserver(h *netns.Host, vip string, args ...string) {
	s.t.Helper()
	flags := append([]string{"--vip", vip, "--state", filepath.Join(s.t.TempDir(), "realserver.json")}, args...)
	s.in(h, s.bin(), append([]string{"realserver", "setup"}, flags...)...)
	s.web(h)
	s.in(h, s.bin(), append([]string{"realserver", "check", "--port", "80"}, flags...)...)
}

// web answers every HTTP request on port 80 (all addresses) in h with its name.
func (s *scenario) web(h *netns.Host) {
	s.t.Helper()
	var ln net.Listener
	if err := h.Do(func() (err error) { ln, err = net.Listen("tcp4", ":80"); return err }); err != nil {
		s.t.Fatalf("listen :80 in %s: %v", h.Name, err)
	}
	name := h.Name
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, name) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln) // ends with Close in Cleanup
	s.t.Cleanup(func() { srv.Close() })
}

// lvsd starts `lvsd run --config cfg` in h.
func (s *scenario) lvsd(h *netns.Host, cfg string) *netns.Proc {
	s.t.Helper()
	bin := s.bin()
	abs, err := filepath.Abs(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.directors = append(s.directors, h)
	sock := filepath.Join(s.t.TempDir(), "lvsd.sock")
	p, err := h.Start(bin, "run", "--config", abs, "--socket", sock, "--log-level", "debug")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		if s.t.Failed() {
			s.t.Logf("lvsd in %s:\n%s", h.Name, p.Output())
		}
	})
	return p
}

// bin is the lvsd binary under test: $LVSD_BIN or ../bin/lvsd.
func (s *scenario) bin() string {
	s.t.Helper()
	bin := os.Getenv("LVSD_BIN")
	if bin == "" {
		var err error
		if bin, err = filepath.Abs("../bin/lvsd"); err != nil {
			s.t.Fatal(err)
		}
	}
	if _, err := os.Stat(bin); err != nil {
		s.t.Fatalf("lvsd binary: %v (run make build, or set LVSD_BIN)", err)
	}
	return bin
}

// get fetches url ("http://IP/") from h and returns the body ("" on failure). The socket
// is made inside h's namespace; no process is spawned (under TCG every exec costs ~1 s).
func (s *scenario) get(h *netns.Host, url string) string {
	host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	var c net.Conn
	if err := h.Do(func() (err error) {
		c, err = net.DialTimeout("tcp4", net.JoinHostPort(host, "80"), 5*time.Second)
		return err
	}); err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host); err != nil {
		return ""
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		return ""
	}
	_, body, ok := strings.Cut(string(resp), "\r\n\r\n")
	if !ok || !strings.HasPrefix(string(resp), "HTTP/1.") || !strings.Contains(strings.SplitN(string(resp), "\r\n", 2)[0], " 200 ") {
		return ""
	}
	return strings.TrimSpace(body)
}

// waitVIP waits until h holds vip on dev (lvsd's VRRP instance became MASTER). Requests
// sent before that are worse than useless: a SYN queued behind the client's unanswered ARP
// leaves when the VIP appears, after the client gave up; the client then resets the
// SYN-ACK, IPVS keeps the entry in SYN_RECV for 60 s and counts it as an active
// connection, and wlc (overhead = 256 x active + inactive) sends everything elsewhere.
func (s *scenario) waitVIP(h *netns.Host, dev, vip string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out, err := netns.IP("-n", h.NS, "-4", "-o", "addr", "show", "dev", dev, "to", vip+"/32"); err == nil && strings.TrimSpace(out) != "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s did not get VIP %s on %s within 30s", h.Name, vip, dev)
}

// waitAnswers polls url from client until every name in want has answered, or fails.
func (s *scenario) waitAnswers(client *netns.Host, url string, want ...string) {
	s.t.Helper()
	seen := map[string]int{}
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	for time.Now().Before(deadline) {
		seen[s.get(client, url)]++
		all := true
		for _, w := range want {
			all = all && seen[w] > 0
		}
		if all {
			s.t.Logf("GET %s: %v answered after %s (%v)", url, want, time.Since(start).Round(100*time.Millisecond), seen)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.logIPVS()
	s.t.Fatalf("GET %s from %s: want answers from %v within 90s, got %v", url, client.Name, want, seen)
}

// logIPVS logs each director's IPVS table, counters and connections (for failures).
func (s *scenario) logIPVS() {
	for _, h := range s.directors {
		for _, args := range [][]string{{"-Ln", "--stats"}, {"-Ln"}, {"-Lnc"}} {
			out, _ := netns.Exec(h.NS, "ipvsadm", args...)
			s.t.Logf("%s: ipvsadm %s\n%s", h.Name, strings.Join(args, " "), out)
		}
	}
}

// count sends n requests and counts the answers by body.
func (s *scenario) count(client *netns.Host, url string, n int) map[string]int {
	got := map[string]int{}
	for range n {
		got[s.get(client, url)]++
	}
	return got
}

// stop sends SIGTERM to lvsd and checks that it exits and takes the VIP and its IPVS
// services with it (keep_ipvs_on_stop is false in every example).
func (s *scenario) stop(p *netns.Proc, h *netns.Host, dev, vip string) {
	s.t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if done, _ := p.Wait(15 * time.Second); !done {
		s.t.Fatalf("lvsd in %s did not exit within 15s of SIGTERM", h.Name)
	}
	if vip != "" {
		if a := s.ip("-n", h.NS, "-4", "-o", "addr", "show", "dev", dev, "to", vip+"/32"); a != "" {
			s.t.Errorf("after stop: VIP still on %s: %q", dev, a)
		}
	}
	if tbl := s.in(h, "ipvsadm", "-Ln"); strings.Contains(tbl, "TCP ") {
		s.t.Errorf("after stop: IPVS services left:\n%s", tbl)
	}
}

func (s *scenario) mac(h *netns.Host, dev string) string {
	s.t.Helper()
	f := strings.Fields(s.ip("-n", h.NS, "-br", "link", "show", "dev", dev))
	if len(f) < 3 {
		s.t.Fatalf("no MAC for %s in %s", dev, h.Name)
	}
	return f[2]
}

// TestScenarioDROneSegment: tutorial 000's lab, examples/dr-one-segment.
func TestScenarioDROneSegment(t *testing.T) {
	s := newScenario(t)
	client := s.host("cl", "eth0", "br0", "192.168.0.10/24")
	dir := s.host("dir", "enp0s3", "br0", "192.168.0.178/24")
	rs1 := s.host("rs1", "enp0s3", "br0", "192.168.0.179/24")
	rs2 := s.host("rs2", "enp0s3", "br0", "192.168.0.180/24")
	for _, rs := range []*netns.Host{rs1, rs2} {
		s.realserver(rs, "192.168.0.101")
	}
	p := s.lvsd(dir, "dr-one-segment/director.hcl")
	s.waitVIP(dir, "enp0s3", "192.168.0.101")
	s.waitAnswers(client, "http://192.168.0.101/", "rs1", "rs2")

	// The real servers hold the VIP too, but only the director may answer ARP for it.
	neigh := s.in(client, "ip", "neigh", "show", "192.168.0.101")
	if want := s.mac(dir, "enp0s3"); !strings.Contains(neigh, want) {
		t.Errorf("client's ARP entry for the VIP: %q, want the director's MAC %s", neigh, want)
	}
	// Direct routing: replies do not pass the director, so its IPVS counts no OutPkts.
	st := s.in(dir, "ipvsadm", "-Ln", "--stats")
	for _, line := range strings.Split(st, "\n") {
		// "TCP  192.168.0.101:80   Conns InPkts OutPkts InBytes OutBytes"
		if f := strings.Fields(line); len(f) >= 5 && f[0] == "TCP" && f[1] == "192.168.0.101:80" && f[4] != "0" {
			t.Errorf("director's IPVS saw %s reply packets (OutPkts): replies should bypass it:\n%s", f[4], st)
		}
	}
	if tbl := s.in(dir, "ipvsadm", "-Ln"); !strings.Contains(tbl, "wlc") || !strings.Contains(tbl, "Route   2") {
		t.Errorf("director's IPVS table is not wlc with rs1 at weight 2 (Route):\n%s", tbl)
	}
	s.stop(p, dir, "enp0s3", "192.168.0.101")
}

// TestScenarioNATWRR: tutorial 004's LVS-NAT lab, examples/nat-wrr.
func TestScenarioNATWRR(t *testing.T) {
	s := newScenario(t)
	s.bridge("br1") // clients' network; br0 is the private one
	client := s.host("cl", "eth0", "br1", "172.18.0.10/24")
	dir := s.host("dir", "ens37", "br0", "192.168.59.100/24")
	s.addIf(dir, "ens33", "br1", "172.18.0.100/24")
	rs1 := s.host("rs1", "ens33", "br0", "192.168.59.131/24")
	rs2 := s.host("rs2", "ens33", "br0", "192.168.59.132/24")
	for _, rs := range []*netns.Host{rs1, rs2} {
		// LVS-NAT: the replies must go back through the director (its inside address).
		s.in(rs, "ip", "route", "add", "default", "via", "192.168.59.100")
		s.web(rs)
	}
	if v := s.in(dir, "sysctl", "-n", "net.ipv4.ip_forward"); v != "0" {
		t.Fatalf("setup: director ip_forward = %s, want 0 (lvsd must set it)", v)
	}
	p := s.lvsd(dir, "nat-wrr/director.hcl")
	s.waitAnswers(client, "http://172.18.0.100/", "rs1", "rs2")
	if v := s.in(dir, "sysctl", "-n", "net.ipv4.ip_forward"); v != "1" {
		t.Errorf("director ip_forward = %s, want 1 (set by lvsd for NAT)", v)
	}
	// wrr 3:1 is deterministic: any 8 consecutive new connections split 6:2.
	if got := s.count(client, "http://172.18.0.100/", 8); got["rs1"] != 6 || got["rs2"] != 2 {
		t.Errorf("8 requests: %v, want rs1:6 rs2:2", got)
	}
	s.stop(p, dir, "", "")
}

// TestScenarioTUN: tutorial 004's LVS-TUN lab, examples/tun (client on the segment, as the
// real servers answer it directly).
func TestScenarioTUN(t *testing.T) {
	s := newScenario(t)
	client := s.host("cl", "eth0", "br0", "192.168.59.10/24")
	dir := s.host("dir", "ens37", "br0", "192.168.59.130/24")
	rs1 := s.host("rs1", "ens33", "br0", "192.168.59.131/24")
	rs2 := s.host("rs2", "ens33", "br0", "192.168.59.132/24")
	for _, rs := range []*netns.Host{rs1, rs2} {
		s.realserver(rs, "192.168.59.100", "--mode", "tun") // loads ipip in the guest: tunl0 appears in every namespace
	}
	p := s.lvsd(dir, "tun/director.hcl")
	s.waitVIP(dir, "ens37", "192.168.59.100")
	s.waitAnswers(client, "http://192.168.59.100/", "rs1", "rs2")
	if tbl := s.in(dir, "ipvsadm", "-Ln"); !strings.Contains(tbl, "Tunnel") {
		t.Errorf("director's IPVS table has no Tunnel destinations:\n%s", tbl)
	}
	neigh := s.in(client, "ip", "neigh", "show", "192.168.59.100")
	if want := s.mac(dir, "ens37"); !strings.Contains(neigh, want) {
		t.Errorf("client's ARP entry for the VIP: %q, want the director's MAC %s", neigh, want)
	}
	s.stop(p, dir, "ens37", "192.168.59.100")
}

// TestScenarioDRAcrossSegments: tutorial 004's multi-segment DR lab, examples/dr-across-segments:
// the client is behind a router that reaches the VIP network 10.0.0.0/24 on the servers' wire.
func TestScenarioDRAcrossSegments(t *testing.T) {
	s := newScenario(t)
	s.bridge("br1") // clients' network
	client := s.host("cl", "eth0", "br1", "172.18.0.10/24")
	s.in(client, "ip", "route", "add", "default", "via", "172.18.0.100")
	router := s.host("rt", "ens224", "br0", "192.168.59.200/24", "10.0.0.200/24")
	s.addIf(router, "ens160", "br1", "172.18.0.100/24")
	s.in(router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	dir := s.host("dir", "ens37", "br0", "192.168.59.130/24")
	s.in(dir, "ip", "route", "add", "default", "via", "192.168.59.200")
	rs1 := s.host("rs1", "ens33", "br0", "192.168.59.131/24")
	rs2 := s.host("rs2", "ens33", "br0", "192.168.59.132/24")
	for _, rs := range []*netns.Host{rs1, rs2} {
		s.in(rs, "ip", "route", "add", "default", "via", "192.168.59.200")
		s.realserver(rs, "10.0.0.100")
	}
	p := s.lvsd(dir, "dr-across-segments/director.hcl")
	s.waitVIP(dir, "lo", "10.0.0.100")
	s.waitAnswers(client, "http://10.0.0.100/", "rs1", "rs2")
	// The router must have learnt the VIP at the director's MAC, not a real server's.
	neigh := s.in(router, "ip", "neigh", "show", "10.0.0.100")
	if want := s.mac(dir, "ens37"); !strings.Contains(neigh, want) {
		t.Errorf("router's ARP entry for the VIP: %q, want the director's MAC %s", neigh, want)
	}
	s.stop(p, dir, "lo", "10.0.0.100")
}

// TestScenarioActiveBackup: examples/active-backup on tutorial 003's lab: two directors, the
// VIP on director-a, then on director-b once director-a stops, with traffic going on.
func TestScenarioActiveBackup(t *testing.T) {
	s := newScenario(t)
	client := s.host("cl", "eth0", "br0", "10.10.10.10/24")
	a := s.host("da", "eth0", "br0", "10.10.10.215/24")
	b := s.host("db", "eth0", "br0", "10.10.10.214/24")
	rs1 := s.host("rs1", "eth0", "br0", "10.10.10.216/24")
	rs2 := s.host("rs2", "eth0", "br0", "10.10.10.217/24")
	for _, rs := range []*netns.Host{rs1, rs2} {
		s.realserver(rs, "10.10.10.213")
	}
	const vip, url = "10.10.10.213", "http://10.10.10.213/"
	pa := s.lvsd(a, "active-backup/director-a.hcl")
	pb := s.lvsd(b, "active-backup/director-b.hcl")
	s.waitVIP(a, "eth0", vip)
	s.waitAnswers(client, url, "rs1", "rs2")
	has := func(h *netns.Host) bool {
		return s.ip("-n", h.NS, "-4", "-o", "addr", "show", "dev", "eth0", "to", vip+"/32") != ""
	}
	if !has(a) || has(b) {
		t.Fatalf("before failover: VIP on director-a %v, on director-b %v; want a only", has(a), has(b))
	}
	// lvs_sync_daemon: director-a (sync master) sends its connections to director-b (sync
	// backup), which must know them before any failover.
	s.count(client, url, 10)
	synced := ""
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if out, err := netns.Exec(b.NS, "ipvsadm", "-Lnc"); err == nil && strings.Contains(out, vip+":80") {
			synced = out
			break
		}
	}
	if synced == "" {
		s.logIPVS()
		t.Errorf("director-b's IPVS has no connection synced from director-a within 20s")
	}

	// Graceful stop of the MASTER: a priority-0 advert, so director-b takes over after its
	// skew time instead of three advert intervals.
	s.stop(pa, a, "eth0", vip)
	deadline := time.Now().Add(20 * time.Second)
	for !has(b) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !has(b) {
		t.Fatal("director-b did not take the VIP within 20s of director-a stopping")
	}
	s.waitAnswers(client, url, "rs1", "rs2")
	neigh := s.in(client, "ip", "neigh", "show", vip)
	if want := s.mac(b, "eth0"); !strings.Contains(neigh, want) {
		t.Errorf("client's ARP entry for the VIP after failover: %q, want director-b's MAC %s", neigh, want)
	}
	s.stop(pb, b, "eth0", vip)
}

// twoBox builds tutorial 001's lab: a client and two boxes, each director and real server, with
// the MAC addresses the example configs name as peer_mac. rs runs `lvsd realserver
// setup` on both boxes (fwmark and backup_only need the VIP on lo; bypass does not).
func twoBox(t *testing.T, rs bool) (s *scenario, client, a, b *netns.Host) {
	s = newScenario(t)
	client = s.host("cl", "eth0", "br0", "172.16.0.10/24")
	a = s.host("da", "enp0s3", "br0", "172.16.0.31/24")
	b = s.host("db", "enp0s3", "br0", "172.16.0.32/24")
	for h, mac := range map[*netns.Host]string{a: "08:00:27:77:84:ef", b: "08:00:27:e1:3c:c5"} {
		s.ip("-n", h.NS, "link", "set", "enp0s3", "address", mac)
		if rs {
			s.realserver(h, "172.16.0.30")
		} else {
			s.web(h)
		}
	}
	return s, client, a, b
}

// allAnswer sends n requests to url and fails unless every one is answered: a two-box
// cluster without a working loop breaker bounces part of the requests between the boxes.
func (s *scenario) allAnswer(client *netns.Host, url string, n int) {
	s.t.Helper()
	if got := s.count(client, url, n); got[""] != 0 || got["da"] == 0 || got["db"] == 0 {
		s.t.Errorf("%d requests to %s: %v; want every one answered, by both boxes", n, url, got)
	}
}

// iptablesHas reports whether table/chain in h has a rule tagged by localnode "web".
func (s *scenario) iptablesHas(h *netns.Host, table string) bool {
	return strings.Contains(s.in(h, "iptables", "-t", table, "-S", "PREROUTING"), "lvsd:localnode:web")
}

// TestScenarioTwoBoxFWMark: examples/two-box-fwmark (tutorial 001, fix 1).
func TestScenarioTwoBoxFWMark(t *testing.T) {
	s, client, a, b := twoBox(t, true)
	const url = "http://172.16.0.30/"
	pa := s.lvsd(a, "two-box-fwmark/director-a.hcl")
	pb := s.lvsd(b, "two-box-fwmark/director-b.hcl")
	s.waitVIP(a, "enp0s3", "172.16.0.30")
	s.waitAnswers(client, url, "da", "db")
	s.allAnswer(client, url, 20)
	for _, h := range []*netns.Host{a, b} {
		if !s.iptablesHas(h, "mangle") {
			t.Errorf("%s: no lvsd MARK rule in mangle PREROUTING", h.Name)
		}
	}
	// Failover: b balances alone; a, without lvsd, is a plain real server (VIP on lo).
	s.stop(pa, a, "enp0s3", "172.16.0.30")
	if s.iptablesHas(a, "mangle") {
		t.Errorf("director-a stopped but its MARK rule is still there")
	}
	s.waitVIP(b, "enp0s3", "172.16.0.30")
	s.waitAnswers(client, url, "da", "db")
	s.allAnswer(client, url, 20)
	s.stop(pb, b, "enp0s3", "172.16.0.30")
}

// TestScenarioTwoBoxBypass: examples/two-box-bypass (tutorial 001, fix 2).
func TestScenarioTwoBoxBypass(t *testing.T) {
	s, client, a, b := twoBox(t, false)
	const url = "http://172.16.0.30/"
	pa := s.lvsd(a, "two-box-bypass/director-a.hcl")
	pb := s.lvsd(b, "two-box-bypass/director-b.hcl")
	s.waitVIP(a, "enp0s3", "172.16.0.30")
	s.waitAnswers(client, url, "da", "db")
	s.allAnswer(client, url, 20)
	if s.iptablesHas(a, "nat") || !s.iptablesHas(b, "nat") {
		t.Errorf("REDIRECT rule: on MASTER a %v, on BACKUP b %v; want b only", s.iptablesHas(a, "nat"), s.iptablesHas(b, "nat"))
	}
	s.stop(pb, b, "enp0s3", "")
	if s.iptablesHas(b, "nat") {
		t.Errorf("director-b stopped but its REDIRECT rule is still there")
	}
	s.stop(pa, a, "enp0s3", "172.16.0.30")
}

// TestScenarioTwoBoxBackupOnly: examples/two-box-backup-only (tutorial 001, fix 3).
func TestScenarioTwoBoxBackupOnly(t *testing.T) {
	s, client, a, b := twoBox(t, true)
	const url = "http://172.16.0.30/"
	pa := s.lvsd(a, "two-box-backup-only/director-a.hcl")
	pb := s.lvsd(b, "two-box-backup-only/director-b.hcl")
	s.waitVIP(a, "enp0s3", "172.16.0.30")
	s.waitAnswers(client, url, "da", "db")
	s.allAnswer(client, url, 20)
	if va, vb := s.in(a, "sysctl", "-n", "net.ipv4.vs.backup_only"), s.in(b, "sysctl", "-n", "net.ipv4.vs.backup_only"); va != "0" || vb != "1" {
		t.Errorf("backup_only: MASTER a %s, BACKUP b %s; want 0 and 1", va, vb)
	}
	s.stop(pb, b, "enp0s3", "")
	s.stop(pa, a, "enp0s3", "172.16.0.30")
}

// requireRoot skips namespace tests under -short or when not root (they need CAP_NET_ADMIN).
func requireRoot(t *testing.T) {
	t.Helper()
	netns.RequireRoot(t, testing.Short())
}
