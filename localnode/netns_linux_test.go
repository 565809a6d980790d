package localnode

// Real iptables in network namespaces made by the test (internal/netns): the Manager runs
// go-iptables on a thread switched into the namespace, and every step is checked with
// `ip netns exec NS iptables-save`. Before any change, each step proves that a process
// started from that thread (as go-iptables starts iptables) is in the test's namespace, so
// the host's firewall is never touched.

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
	"golang.org/x/sys/unix"
)

// assertInNamespace fails unless this thread and a child process it starts are both in
// namespace ns.
func assertInNamespace(ns string) error {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join("/run/netns", ns), &st); err != nil {
		return fmt.Errorf("stat namespace %s: %w", ns, err)
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	thread, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	out, err := exec.Command("readlink", "/proc/self/ns/net").Output()
	if err != nil {
		return fmt.Errorf("readlink in a child: %w", err)
	}
	if child := strings.TrimSpace(string(out)); thread != want || child != want {
		return fmt.Errorf("thread in %s, child process in %s, test namespace %s is %s: refusing to run iptables", thread, child, ns, want)
	}
	return nil
}

// in runs f on a thread in h's namespace, after assertInNamespace.
func in(t *testing.T, h *netns.Host, f func() error) {
	t.Helper()
	err := h.Do(func() error {
		if err := assertInNamespace(h.NS); err != nil {
			return err
		}
		return f()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// saved returns the PREROUTING rules of table in h's namespace, as iptables-save prints
// them (with counters when counters is set).
func saved(t *testing.T, h *netns.Host, table string, counters bool) []string {
	t.Helper()
	args := []string{"-t", table}
	if counters {
		args = append(args, "-c")
	}
	out, err := h.Exec("iptables-save", args...)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "-A PREROUTING ") {
			rules = append(rules, l)
		}
	}
	return rules
}

func mustExec(t *testing.T, h *netns.Host, name string, args ...string) {
	t.Helper()
	if _, err := h.Exec(name, args...); err != nil {
		t.Fatal(err)
	}
}

func TestIPTablesInNamespace(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	lab := netns.New(t)
	d := lab.MustAddHost(t, "d", "10.77.0.1/24")

	// Someone else's rules, and a rule an earlier lvsd left behind.
	mustExec(t, d, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", "10.0.0.1/32", "-p", "tcp", "--dport", "22", "-j", "REDIRECT")
	mustExec(t, d, "iptables", "-t", "mangle", "-A", "PREROUTING", "-i", "lo", "-j", "MARK", "--set-mark", "9")
	mustExec(t, d, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", "10.9.9.9/32", "-p", "tcp",
		"-m", "comment", "--comment", "lvsd:localnode:old", "-j", "REDIRECT")
	foreignNat := `-A PREROUTING -d 10.0.0.1/32 -p tcp -m tcp --dport 22 -j REDIRECT`
	foreignMangle := `-A PREROUTING -i lo -j MARK --set-xmark 0x9/0xffffffff`
	mark := `-A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m mac ! --mac-source 08:00:27:e1:3c:c5 -m comment --comment "lvsd:localnode:web" -j MARK --set-xmark 0x3/0xffffffff`
	redirect := `-A PREROUTING -d 172.16.0.31/32 -p tcp -m tcp --dport 80 -m comment --comment "lvsd:localnode:api" -j REDIRECT`

	var m *Manager
	newManager := func() error {
		ipt, err := NewIPTables()
		if err != nil {
			return err
		}
		m, err = New(twoNodes(t), Deps{IPTables: ipt}, nil)
		return err
	}
	ctx := context.Background()
	check := func(step string, wantMangle, wantNat []string) {
		t.Helper()
		gotM, gotN := saved(t, d, "mangle", false), saved(t, d, "nat", false)
		// iptables-legacy prints MACs uppercase; nf_tables lowercase.
		for i := range gotM {
			gotM[i] = strings.Replace(gotM[i], "08:00:27:E1:3C:C5", "08:00:27:e1:3c:c5", 1)
		}
		if !reflect.DeepEqual(gotM, wantMangle) || !reflect.DeepEqual(gotN, wantNat) {
			t.Fatalf("after %s:\nmangle %q\n  want %q\nnat    %q\n  want %q", step, gotM, wantMangle, gotN, wantNat)
		}
	}
	in(t, d, newManager)
	in(t, d, func() error { return m.Start(ctx) })
	check("start", []string{mark, foreignMangle}, []string{redirect, foreignNat})
	in(t, d, func() error {
		start := time.Now()
		m.OnRole("VI_2", RoleMaster)
		t.Logf("OnState MASTER (bypass rule removed) took %s", time.Since(start).Round(time.Microsecond))
		return nil
	})
	check("VI_2 MASTER", []string{mark, foreignMangle}, []string{foreignNat})
	in(t, d, func() error { m.OnRole("VI_1", RoleMaster); return nil })
	check("VI_1 MASTER", []string{mark, foreignMangle}, []string{foreignNat})
	in(t, d, func() error {
		start := time.Now()
		m.OnRole("VI_2", RoleBackup)
		t.Logf("OnState FAULT (bypass rule inserted) took %s", time.Since(start).Round(time.Microsecond))
		return nil
	})
	check("VI_2 FAULT", []string{mark, foreignMangle}, []string{redirect, foreignNat})
	if st := m.Status(); !st[0].Installed || !st[1].Installed || st[0].Error != "" || st[1].Error != "" {
		t.Errorf("status %+v", st)
	}

	// A crash: a new Manager adopts the rules in place (TestFWMarkTraffic shows that
	// their counters survive).
	in(t, d, newManager)
	in(t, d, func() error { return m.Start(ctx) })
	check("restart", []string{mark, foreignMangle}, []string{redirect, foreignNat})

	in(t, d, func() error { return m.Stop(ctx) })
	check("stop", []string{foreignMangle}, []string{foreignNat})
}

// A missing match is named by Start, and nothing changes.
func TestIPTablesPreflightInNamespace(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	lab := netns.New(t)
	d := lab.MustAddHost(t, "d", "10.77.0.1/24")
	// This machine has every match; a missing one is simulated by a wrapper that fails
	// -C of the mac rule the way iptables does when it cannot load an extension.
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "iptables")
	script := "#!/bin/sh\ncase \" $* \" in *\" -C \"*\" mac \"*) echo \"iptables v1.8.9 (nf_tables): Couldn't load match \\`mac':No such file or directory\" >&2; exit 2;; esac\nexec iptables \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	before := saved(t, d, "nat", false)
	var err error
	in(t, d, func() error {
		ipt, e := newIPTablesAt(wrapper)
		if e != nil {
			return e
		}
		m, e := New(twoNodes(t), Deps{IPTables: ipt}, nil)
		if e != nil {
			return e
		}
		err = m.Start(context.Background())
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "match mac") || !strings.Contains(err.Error(), "Couldn't load match") {
		t.Fatalf("Start = %v, want an error naming the mac match", err)
	}
	if after := saved(t, d, "nat", false); !reflect.DeepEqual(before, after) {
		t.Errorf("failed Start changed nat: %q -> %q", before, after)
	}
	if m := saved(t, d, "mangle", false); len(m) != 0 {
		t.Errorf("failed Start changed mangle: %q", m)
	}
}

var counterRe = regexp.MustCompile(`^\[(\d+):(\d+)\]`)

// markPackets is the packet counter of lvsd's mark rule in h.
func markPackets(t *testing.T, h *netns.Host) int {
	t.Helper()
	for _, l := range saved(t, h, "mangle", true) {
		if strings.Contains(l, TagPrefix) {
			m := counterRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("no counters in %q", l)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	t.Fatal("no lvsd rule in mangle PREROUTING")
	return 0
}

// connect opens a TCP connection from h to addr and expects it refused: nobody listens,
// so the director's RST proves that the SYN (what the rule counts) arrived.
func connect(t *testing.T, h *netns.Host, addr string) {
	t.Helper()
	out, _ := h.Exec("timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/"+strings.Replace(addr, ":", "/", 1))
	if !strings.Contains(out, "Connection refused") {
		t.Fatalf("connect %s from %s: %q, want refused", addr, h.Name, out)
	}
}

// fwmark for real: the director's rule marks a client's packets to the VIP but not those
// that come from the peer director's MAC.
func TestFWMarkTraffic(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	lab := netns.New(t)
	d := lab.MustAddHost(t, "d", "10.77.0.1/24")
	peer := lab.MustAddHost(t, "p", "10.77.0.2/24")
	client := lab.MustAddHost(t, "c", "10.77.0.3/24")
	const vip = "10.77.9.30"
	if _, err := d.IP("addr", "add", vip+"/32", "dev", "lo"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*netns.Host{peer, client} {
		if _, err := h.IP("route", "add", vip+"/32", "via", "10.77.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	peerMAC, err := net.ParseMAC(peer.MAC)
	if err != nil {
		t.Fatalf("peer MAC %q: %v", peer.MAC, err)
	}
	ln := Config{Name: "web", Instance: "VI_1", Mode: ModeFWMark,
		VIP: netip.MustParseAddr(vip), Port: 80, Protocol: "TCP", PeerMAC: peerMAC, FWMark: 3}
	var m *Manager
	in(t, d, func() error {
		ipt, err := NewIPTables()
		if err != nil {
			return err
		}
		if m, err = New([]Config{ln}, Deps{IPTables: ipt}, nil); err != nil {
			return err
		}
		return m.Start(context.Background())
	})
	t.Cleanup(func() { _ = d.Do(func() error { return m.Stop(context.Background()) }) })

	connect(t, peer, vip+":80")
	if n := markPackets(t, d); n != 0 {
		t.Errorf("packets from the peer director marked: %d", n)
	}
	connect(t, client, vip+":80")
	if n := markPackets(t, d); n == 0 {
		t.Errorf("client packets not marked")
	}
	// Another port is not the service: not marked.
	before := markPackets(t, d)
	connect(t, client, vip+":81")
	if n := markPackets(t, d); n != before {
		t.Errorf("port 81 marked: %d -> %d", before, n)
	}
	// lvsd restarts (after a crash): the rule is adopted, not replaced (counters kept).
	in(t, d, func() error {
		ipt, err := NewIPTables()
		if err != nil {
			return err
		}
		if m, err = New([]Config{ln}, Deps{IPTables: ipt}, nil); err != nil {
			return err
		}
		return m.Start(context.Background())
	})
	if n := markPackets(t, d); n != before {
		t.Errorf("restart replaced the rule: counter %d -> %d", before, n)
	}
}

func TestProcSys(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "net", "ipv4", "vs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backup_only"), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := ProcSys{Root: root}
	if v, err := p.ReadSysctl(BackupOnlySysctl); err != nil || v != "0" {
		t.Fatalf("read: %q %v", v, err)
	}
	if err := p.WriteSysctl(BackupOnlySysctl, "1"); err != nil {
		t.Fatal(err)
	}
	if v, err := p.ReadSysctl(BackupOnlySysctl); err != nil || v != "1" {
		t.Fatalf("read back: %q %v", v, err)
	}
	if _, err := p.ReadSysctl("net.ipv4.vs.nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing key: %v", err)
	}
}
