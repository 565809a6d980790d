//go:build vmtest

package lvs

// In-VM tests of the IPVS sync daemon and the backup_only sysctl (Debian's kernel, see
// internal/vmtest). Everything happens in a network namespace of the test's own, with a
// veth pair as the multicast interface: IPVS, its sync daemons and its sysctls are per
// namespace.

import (
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

const syncTestNS = "lvssyncd"

// syncNSWorker runs functions on one OS thread inside a namespace (netlink sockets are
// opened in the thread's namespace).
type syncNSWorker struct{ jobs chan func() }

func (w *syncNSWorker) do(f func()) {
	done := make(chan struct{})
	w.jobs <- func() { defer close(done); f() }
	<-done
}

// syncTestSetup makes the namespace with a veth pair lvss0/lvss1 (10.97.0.1/24 on lvss0)
// and a worker thread inside it; both go in t.Cleanup.
func syncTestSetup(t *testing.T) *syncNSWorker {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (IPVS netlink, namespaces)")
	}
	for _, c := range [][]string{
		{"netns", "add", syncTestNS},
		{"-n", syncTestNS, "link", "add", "lvss0", "type", "veth", "peer", "name", "lvss1"},
		{"-n", syncTestNS, "addr", "add", "10.97.0.1/24", "dev", "lvss0"},
		{"-n", syncTestNS, "link", "set", "lvss0", "up"},
		{"-n", syncTestNS, "link", "set", "lvss1", "up"},
		{"-n", syncTestNS, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			exec.Command("ip", "netns", "del", syncTestNS).Run()
			t.Fatalf("ip %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", syncTestNS).Run() })
	w := &syncNSWorker{jobs: make(chan func())}
	ready := make(chan error)
	go func() {
		// Never unlocked: the thread ends with this goroutine instead of being reused in
		// the test's namespace.
		runtime.LockOSThread()
		h, err := netns.GetFromName(syncTestNS)
		if err == nil {
			err = netns.Set(h)
			h.Close()
		}
		ready <- err
		if err != nil {
			return
		}
		for f := range w.jobs {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("enter namespace %s: %v", syncTestNS, err)
	}
	t.Cleanup(func() {
		w.do(func() { _ = StopSyncDaemon(SyncMaster); _ = StopSyncDaemon(SyncBackup) })
		close(w.jobs)
	})
	return w
}

func syncList(t *testing.T, w *syncNSWorker) []SyncDaemonState {
	t.Helper()
	var got []SyncDaemonState
	var err error
	w.do(func() { got, err = SyncDaemons() })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func syncIpvsadmDaemons(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", syncTestNS, "ipvsadm", "-L", "--daemon").CombinedOutput()
	if err != nil {
		t.Fatalf("ipvsadm -L --daemon: %v\n%s", err, out)
	}
	return string(out)
}

// syncKernelDebug logs the kernel's view when a sync daemon call fails: the end of dmesg
// and the kernel stacks of the IPVS threads.
func syncKernelDebug(t *testing.T) {
	out, _ := exec.Command("sh", "-c", `dmesg | tail -20; for p in /proc/[0-9]*; do case "$(cat $p/comm 2>/dev/null)" in ipvs*) echo "== $p $(cat $p/comm) $(cat $p/wchan 2>/dev/null)"; cat $p/stack 2>/dev/null;; esac; done`).CombinedOutput()
	t.Logf("kernel:\n%s", out)
}

// syncWaitStarted waits until the kernel has logged n "sync thread started" lines since
// boot, that is until the n-th daemon thread has run. Under qemu's TCG on a loaded host a
// new kernel thread was once seen not to run for a minute, and stopping the daemon before
// its thread ran blocked for as long; on hardware the thread runs at once.
func syncWaitStarted(t *testing.T, n int) {
	t.Helper()
	start := time.Now()
	for {
		out, err := exec.Command("dmesg").Output()
		if err != nil {
			t.Fatalf("dmesg: %v", err)
		}
		if c := strings.Count(string(out), "IPVS: sync thread started"); c >= n {
			if d := time.Since(start); d > time.Second {
				t.Logf("sync thread %d ran after %s", n, d.Round(time.Millisecond))
			}
			return
		}
		if time.Since(start) > 3*time.Minute {
			syncKernelDebug(t)
			t.Fatalf("sync thread %d did not run", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestVMSyncDaemon(t *testing.T) {
	w := syncTestSetup(t)
	if got := syncList(t, w); len(got) != 0 {
		t.Fatalf("fresh namespace has sync daemons: %v", got)
	}
	var err error
	out, _ := exec.Command("dmesg").Output()
	threads := strings.Count(string(out), "IPVS: sync thread started")
	w.do(func() { err = StartSyncDaemon(SyncMaster, "lvss0", 51) })
	if err != nil {
		t.Fatal(err)
	}
	threads++
	syncWaitStarted(t, threads)
	want := []SyncDaemonState{{SyncMaster, "lvss0", 51}}
	if got := syncList(t, w); !reflect.DeepEqual(got, want) {
		t.Fatalf("after start: %v, want %v", got, want)
	}
	if out := syncIpvsadmDaemons(t); !strings.Contains(out, "master sync daemon (mcast=lvss0, syncid=51") {
		t.Errorf("ipvsadm -L --daemon:\n%s", out)
	}

	// Starting it again is fine; with another sync id it is restarted with that id.
	w.do(func() { err = StartSyncDaemon(SyncMaster, "lvss0", 51) })
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	w.do(func() { err = StartSyncDaemon(SyncMaster, "lvss0", 52) })
	if err != nil {
		t.Fatalf("start with another id: %v", err)
	}
	threads++
	syncWaitStarted(t, threads)
	want = []SyncDaemonState{{SyncMaster, "lvss0", 52}}
	if got := syncList(t, w); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart: %v, want %v", got, want)
	}

	// The role follows VRRP.
	f := NewSyncFollower(KernelSyncDaemons{}, "lvss0", 51, nil)
	for _, step := range []struct {
		state SyncRole
		want  []SyncDaemonState
		adm   string
	}{
		{SyncBackup, []SyncDaemonState{{SyncBackup, "lvss0", 51}}, "backup sync daemon (mcast=lvss0, syncid=51"},
		{SyncMaster, []SyncDaemonState{{SyncMaster, "lvss0", 51}}, "master sync daemon (mcast=lvss0, syncid=51"},
		{SyncBackup, []SyncDaemonState{{SyncBackup, "lvss0", 51}}, "backup sync daemon (mcast=lvss0, syncid=51"},
		{SyncRole(0), nil, ""},
	} {
		start := time.Now()
		w.do(func() { f.OnRole(step.state) })
		t.Logf("%s: role change took %s", step.state, time.Since(start).Round(time.Millisecond))
		if err := f.Err(); err != nil {
			syncKernelDebug(t)
			t.Fatalf("%s: %v", step.state, err)
		}
		if got := syncList(t, w); !reflect.DeepEqual(got, step.want) {
			t.Fatalf("%s: running %v, want %v", step.state, got, step.want)
		}
		if len(step.want) > 0 {
			threads++
			syncWaitStarted(t, threads)
		}
		out := syncIpvsadmDaemons(t)
		if step.adm != "" && !strings.Contains(out, step.adm) || step.adm == "" && strings.Contains(out, "sync daemon") {
			t.Errorf("%s: ipvsadm -L --daemon:\n%s", step.state, out)
		}
	}

	// Stopping what does not run is fine; a missing interface is an error.
	w.do(func() { err = StopSyncDaemon(SyncBackup) })
	if err != nil {
		t.Errorf("stop of a stopped daemon: %v", err)
	}
	w.do(func() { err = StartSyncDaemon(SyncBackup, "nosuchif0", 1) })
	if err == nil {
		t.Errorf("start on a missing interface succeeded")
		w.do(func() { _ = StopSyncDaemon(SyncBackup) })
	}
}

// backup_only exists (kernel 3.9+) in a namespace with IPVS and is settable.
func TestVMBackupOnlySysctl(t *testing.T) {
	syncTestSetup(t)
	run := func(script string) string {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", syncTestNS, "sh", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if v := run("cat /proc/sys/net/ipv4/vs/backup_only"); v != "0" {
		t.Errorf("default backup_only = %q, want 0", v)
	}
	if v := run("echo 1 > /proc/sys/net/ipv4/vs/backup_only && cat /proc/sys/net/ipv4/vs/backup_only"); v != "1" {
		t.Errorf("after writing 1: %q", v)
	}
	if v := run("echo 0 > /proc/sys/net/ipv4/vs/backup_only && cat /proc/sys/net/ipv4/vs/backup_only"); v != "0" {
		t.Errorf("after writing 0: %q", v)
	}
}

// The design of localnode mode backup_only, checked on the kernel: the flag stops IPVS
// from balancing only while the backup sync daemon runs, so moving the daemon with VRRP
// (SyncFollower) is what switches the director function off on the BACKUP and on again on
// the MASTER.
func TestVMBackupOnlyFollowsSyncDaemon(t *testing.T) {
	w := syncTestSetup(t)
	const client = "lvssyncc"
	sh := func(ns, script string) string {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %s: %v\n%s", ns, script, err, out)
		}
		return string(out)
	}
	if out, err := exec.Command("ip", "netns", "add", client).CombinedOutput(); err != nil {
		t.Fatalf("netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", client).Run() })
	sh(syncTestNS, "ip link add lvsb0 type veth peer name lvsb1 netns "+client+
		" && ip addr add 10.96.0.1/24 dev lvsb0 && ip link set lvsb0 up && ip addr add 10.96.0.100/32 dev lo"+
		" && ipvsadm -A -t 10.96.0.100:80 -s rr && ipvsadm -a -t 10.96.0.100:80 -r 10.96.0.1:8080 -m")
	sh(client, "ip link set lo up && ip addr add 10.96.0.2/24 dev lvsb1 && ip link set lvsb1 up && ip route add 10.96.0.100/32 via 10.96.0.1")
	// conns lists the IPVS connection entries for the VIP by client address and port: they
	// appear at once (the service's Conns statistic is only refreshed by the rate estimator,
	// every 2 s), and each connection attempt comes from a new port.
	conns := func() map[string]bool {
		t.Helper()
		m := map[string]bool{}
		for _, l := range strings.Split(sh(syncTestNS, "ipvsadm -Lnc"), "\n") {
			// pro expire state source virtual destination
			if f := strings.Fields(l); len(f) >= 6 && f[4] == "10.96.0.100:80" {
				m[f[3]] = true
			}
		}
		return m
	}
	// balanced sends one SYN to the VIP and reports whether IPVS scheduled it. Nothing
	// listens on either side, so the connection is refused quickly in both cases.
	balanced := func() bool {
		t.Helper()
		before := conns()
		out, _ := exec.Command("ip", "netns", "exec", client, "timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/10.96.0.100/80").CombinedOutput()
		if !strings.Contains(string(out), "refused") {
			t.Fatalf("connect to the VIP: %q, want refused", out)
		}
		for src := range conns() {
			if !before[src] {
				return true
			}
		}
		return false
	}
	out, _ := exec.Command("dmesg").Output()
	threads := strings.Count(string(out), "IPVS: sync thread started")

	sh(syncTestNS, "echo 1 > /proc/sys/net/ipv4/vs/backup_only")
	if !balanced() {
		t.Errorf("backup_only=1 without a sync daemon: IPVS did not balance")
	}
	f := NewSyncFollower(KernelSyncDaemons{}, "lvss0", 51, nil)
	for _, step := range []struct {
		state    SyncRole
		balanced bool
	}{
		{SyncBackup, false},
		{SyncMaster, true},
		{SyncBackup, false},
	} {
		w.do(func() { f.OnRole(step.state) })
		if err := f.Err(); err != nil {
			t.Fatalf("%s: %v", step.state, err)
		}
		threads++
		syncWaitStarted(t, threads)
		if got := balanced(); got != step.balanced {
			t.Errorf("backup_only=1, VRRP %s: balanced %v, want %v", step.state, got, step.balanced)
		}
	}
	sh(syncTestNS, "echo 0 > /proc/sys/net/ipv4/vs/backup_only")
	if !balanced() {
		t.Errorf("backup_only=0 with the backup daemon: IPVS did not balance")
	}
	w.do(func() { f.OnRole(0) })
}
