package e2e

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadSIGHUPAndCLI: a MASTER renamed and re-prioritised by SIGHUP stays MASTER with
// its VIP and no transition on either router; a backup raised above it by `lvsd reload`
// preempts it; a broken config changes nothing and `lvsd reload` says where.
func TestReloadSIGHUPAndCLI(t *testing.T) {
	l := newLab(t)
	s1 := Spec{Priority: 150, AuthPass: "1111"}
	s2 := Spec{Priority: 100, AuthPass: "1111"}
	d1 := l.lvsd(l.R1, s1)
	d2 := l.lvsd(l.R2, s2)
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	before1, err := d1.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	before2, err := d2.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}

	// SIGHUP on the master: renamed, priority lowered but still above the backup.
	s1.Name, s1.Priority = "VI_A", 140
	if err := os.WriteFile(d1.Config, []byte(LvsdConfig(l.R1.Name, d1.Socket, s1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d1.Proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var after1 VRRPStatus
	for {
		if after1, err = d1.Instance("VI_A"); err == nil && after1.Priority == 140 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP: %+v, %v; want VI_A with priority 140", after1, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // several advert intervals
	after1, _ = d1.Instance("VI_A")
	after2, _ := d2.Instance("VI_1")
	if after1.State != "MASTER" || after1.Transitions != before1.Transitions || after2.State != "BACKUP" || after2.Transitions != before2.Transitions {
		t.Fatalf("a reload caused a transition: r1 %s %d -> %d, r2 %s %d -> %d", after1.State, before1.Transitions,
			after1.Transitions, after2.State, before2.Transitions, after2.Transitions)
	}
	if !HasVIP(l.R1, "eth0", VIP) {
		t.Fatal("the master lost its VIP in the reload")
	}

	// A broken config: exit 1 with the position, nothing changes.
	if err := os.WriteFile(d2.Config, []byte(LvsdConfig(l.R2.Name, d2.Socket, s2)+"\nbogus {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lvsdBin, "reload", "--socket", d2.Socket).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), d2.Config+":") {
		t.Fatalf("reload of a broken config: exit %d, output %s", code, out)
	}

	// `lvsd reload` raises the backup above the master: it preempts.
	s2.Priority = 200
	if err := os.WriteFile(d2.Config, []byte(LvsdConfig(l.R2.Name, d2.Socket, s2)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(lvsdBin, "reload", "--socket", d2.Socket).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "priority 100 -> 200") {
		t.Fatalf("lvsd reload: %v, output %s", err, out)
	}
	l.wantState(d2, "MASTER", failoverTimeout)
	if err := d1.WaitState("VI_A", "BACKUP", failoverTimeout); err != nil {
		t.Fatal(err)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
