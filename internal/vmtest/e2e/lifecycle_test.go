//go:build vmtest

package e2e

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/ipvs"
)

// reconcileSlack is what the drift tests allow beyond one reconcile_interval (1 s) for a
// repair to show: TCG makes the guest 5-20x slower than hardware.
const reconcileSlack = 3 * time.Second

// TestDriftRepaired: with reconcile_interval = 1, lvsd puts back what someone changed by
// hand in its services (ipvsadm -C, a deleted destination, a changed weight) and leaves a
// service it does not own alone, also when it stops.
func TestDriftRepaired(t *testing.T) {
	l := newSegLab(t, "lo")
	vs := segVIP + ":80"
	want := []string{"TCP 192.168.0.101:80 wrr | -> 192.168.0.179:80 Route 2 | -> 192.168.0.180:80 Route 1"}
	p := l.startLvsd(l.dir, segConfig(segVS("wrr", "DR", "", 2, 1)))
	p.waitTable(want, 30*time.Second)
	p.waitReady(10 * time.Second)

	repaired := func(what string, want []string) {
		t.Helper()
		d, ok := l.waitTableIn(l.dir, want, time.Second+reconcileSlack)
		if !ok {
			t.Fatalf("%s: not repaired within %s:\n got %q\nwant %q", what, time.Second+reconcileSlack, l.table(l.dir), want)
		}
		t.Logf("%s: repaired after %s", what, d.Round(10*time.Millisecond))
	}

	l.in(l.dir, "ipvsadm", "-C")
	repaired("ipvsadm -C", want)

	// A service of someone else's: lvsd must neither remove nor touch it.
	hand := "TCP 192.168.0.101:8080 rr | -> 192.168.0.179:8080 Route 1"
	l.in(l.dir, "ipvsadm", "-A", "-t", segVIP+":8080", "-s", "rr")
	l.in(l.dir, "ipvsadm", "-a", "-t", segVIP+":8080", "-r", segRS1+":8080", "-g", "-w", "1")
	wantAll := append([]string{hand}, want...)

	l.in(l.dir, "ipvsadm", "-d", "-t", vs, "-r", segRS2+":80")
	repaired("deleted destination", wantAll)

	l.in(l.dir, "ipvsadm", "-e", "-t", vs, "-r", segRS1+":80", "-g", "-w", "5")
	repaired("changed weight", wantAll)

	// Three more reconcile periods: the foreign service is still there, untouched.
	time.Sleep(3 * time.Second)
	if got := l.table(l.dir); !equal(got, sortedCopy(wantAll)) {
		t.Fatalf("after 3 reconcile periods\n got %q\nwant %q", got, sortedCopy(wantAll))
	}
	answers := getN(t, client(l.cli), "http://"+segVIP+"/", 3)
	if c := count(answers); c["rs1"] != 2 || c["rs2"] != 1 {
		t.Errorf("3 requests after the repairs split %v, want rs1:2 rs2:1 (wrr 2:1)", c)
	}

	// Graceful stop removes lvsd's own services only.
	if !p.signal(syscall.SIGTERM, 15*time.Second) {
		t.Fatal("lvsd did not exit within 15s of SIGTERM")
	}
	if p.err != nil {
		t.Errorf("lvsd exit after SIGTERM: %v", p.err)
	}
	if got := l.table(l.dir); !equal(got, []string{hand}) {
		t.Errorf("after SIGTERM the table is %q, want only the foreign service %q", got, hand)
	}
}

// TestAdoptionKeepsConnections: a TCP connection through the VIP survives kill -9 of lvsd
// and a restart: the new lvsd adopts the kernel's services instead of flushing and
// re-creating them (which would reset their counters and strand the connection; the
// director runs with expire_nodest_conn=1, so a stranded connection is dropped).
func TestAdoptionKeepsConnections(t *testing.T) {
	l := newSegLab(t, "lo")
	for i, ns := range []string{l.rs1, l.rs2} {
		l.echoServer(ns, "0.0.0.0:7000", fmt.Sprintf("rs%d", i+1))
	}
	l.sysctl(l.dir, "net.ipv4.vs.expire_nodest_conn", "1")
	hcl := segConfig(fmt.Sprintf(`virtual_server %q {
  protocol = "TCP"
  lb_algo = "rr"
  lb_kind = "DR"
  real_server %q {
    weight = 1
  }
  real_server %q {
    weight = 1
  }
}
`, segVIP+":7000", segRS1+":7000", segRS2+":7000"))
	head := "TCP " + segVIP + ":7000"
	want := []string{head + " rr | -> 192.168.0.179:7000 Route 1 | -> 192.168.0.180:7000 Route 1"}
	p := l.startLvsd(l.dir, hcl)
	p.waitTable(want, 30*time.Second)
	p.waitReady(10 * time.Second)

	say := l.dialEcho(l.cli, segVIP+":7000").say
	first := say("before")
	server, _, _ := strings.Cut(first, ":")
	dest := map[string]string{"rs1": segRS1 + ":7000", "rs2": segRS2 + ":7000"}[server]
	if dest == "" || first != server+": before" {
		t.Fatalf("first reply %q: want \"rs1: before\" or \"rs2: before\"", first)
	}
	if n := l.activeConns(l.dir, head, dest); n != 1 {
		t.Fatalf("ActiveConn of %s = %d before the restart, want 1", dest, n)
	}
	before := l.waitStats(l.dir, head, func(s ipvs.SvcStats) bool { return s.Connections >= 1 })

	if !p.signal(syscall.SIGKILL, 10*time.Second) {
		t.Fatal("lvsd did not die of SIGKILL")
	}
	if got := l.table(l.dir); !equal(got, want) {
		t.Fatalf("after kill -9 the table is %q, want it untouched %q", got, want)
	}
	if got := say("while down"); got != server+": while down" {
		t.Fatalf("reply while lvsd is down: %q", got)
	}

	p.start()
	p.waitReady(20 * time.Second)
	time.Sleep(2500 * time.Millisecond) // two reconcile periods of the new lvsd
	if got := l.table(l.dir); !equal(got, want) {
		t.Fatalf("after the restart the table is %q, want %q", got, want)
	}
	if got := say("after restart"); got != server+": after restart" {
		t.Fatalf("reply after the restart: %q, want %q", got, server+": after restart")
	}
	if n := l.activeConns(l.dir, head, dest); n != 1 {
		t.Errorf("ActiveConn of %s = %d after the restart, want 1 (the destination was re-created?)", dest, n)
	}
	after := l.waitStats(l.dir, head, func(s ipvs.SvcStats) bool { return s.Connections >= before.Connections })
	if after.Connections < before.Connections {
		t.Errorf("service counters went from %d to %d connections: the service was re-created", before.Connections, after.Connections)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// TestRestartRemovesDroppedService: lvsd remembers which services it owns (beside its
// control socket), so a service dropped from the config while lvsd was down is removed by
// the next start, while a service someone else created stays.
func TestRestartRemovesDroppedService(t *testing.T) {
	l := newSegLab(t, "lo")
	second := strings.Replace(segVS("rr", "DR", "", 1, 1), segVIP+":80", segVIP+":81", 1)
	second = strings.ReplaceAll(second, ":80\"", ":81\"")
	p := l.startLvsd(l.dir, segConfig(segVS("rr", "DR", "", 1, 1)+second))
	both := []string{
		"TCP 192.168.0.101:80 rr | -> 192.168.0.179:80 Route 1 | -> 192.168.0.180:80 Route 1",
		"TCP 192.168.0.101:81 rr | -> 192.168.0.179:81 Route 1 | -> 192.168.0.180:81 Route 1",
	}
	p.waitTable(both, 30*time.Second)
	time.Sleep(2 * time.Second) // a reconcile period: the owned set is on disk

	if !p.signal(syscall.SIGKILL, 10*time.Second) {
		t.Fatal("lvsd survived SIGKILL")
	}
	hand := "TCP 192.168.0.101:8080 rr | -> 192.168.0.179:8080 Route 1"
	l.in(l.dir, "ipvsadm", "-A", "-t", segVIP+":8080", "-s", "rr")
	l.in(l.dir, "ipvsadm", "-a", "-t", segVIP+":8080", "-r", segRS1+":8080", "-g", "-w", "1")
	if err := os.WriteFile(p.conf, []byte(segConfig(segVS("rr", "DR", "", 1, 1))), 0o644); err != nil {
		t.Fatal(err)
	}
	p.start()
	p.waitTable([]string{both[0], hand}, 30*time.Second)
}
