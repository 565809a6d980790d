package e2e

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultReloadBadConfig: a reload whose configuration file is gone, is not text, or gives
// a VIP that is the interface's own address is refused (`lvsd reload` exits 1 naming the
// problem, the daemon logs it) and the running configuration goes on: still MASTER, VIP kept.
// SIGHUP with the file gone does the same.
func TestFaultReloadBadConfig(t *testing.T) {
	l := newLab(t)
	d := l.lvsd(l.R1, Spec{Priority: 150, State: "MASTER"})
	l.wantState(d, "MASTER", electTimeout)
	l.wantVIP(l.R1, true, 2*time.Second)
	good, err := os.ReadFile(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	reload := func(want string) {
		t.Helper()
		out, err := exec.Command(lvsdBin, "reload", "--socket", d.Socket).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), want) {
			t.Fatalf("lvsd reload: %v, output:\n%s\nwant exit 1 and %q", err, out, want)
		}
	}
	stillRunning := func() {
		t.Helper()
		l.stable(d, "MASTER", 1500*time.Millisecond)
		if !HasVIP(l.R1, "eth0", VIP) {
			t.Fatal("the VIP went away after a refused reload")
		}
	}

	if err := os.Remove(d.Config); err != nil {
		t.Fatal(err)
	}
	reload("cannot read config")
	stillRunning()
	if err := d.Proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	stillRunning()
	if err := os.WriteFile(d.Config, []byte("global {\x00\x01\x02"), 0o644); err != nil {
		t.Fatal(err)
	}
	reload("not a text file (NUL byte): refused before parsing")
	stillRunning()
	own := strings.Replace(string(good), `"`+VIP+`/32"`, `"`+VIP+`/32", "`+R1IP+`/24"`, 1)
	if own == string(good) {
		t.Fatalf("test config lacks the VIP:\n%s", good)
	}
	if err := os.WriteFile(d.Config, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	reload("VIP " + R1IP + " is the own address of interface eth0")
	stillRunning()
	if has, err := l.R1.HasAddr("eth0", R1IP); err != nil || !has {
		t.Fatalf("r1 lost its own address (err %v)", err)
	}
	out := d.Proc.Output()
	for _, want := range []string{"reload failed: running configuration unchanged", "cannot read config", "not a text file"} {
		if !strings.Contains(out, want) {
			t.Errorf("the daemon's log lacks %q:\n%s", want, out)
		}
	}
	// A good configuration again: the reload is applied (the daemon is still fully alive).
	if err := os.WriteFile(d.Config, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(lvsdBin, "reload", "--socket", d.Socket).CombinedOutput(); err != nil {
		t.Fatalf("reload of the original config: %v\n%s", err, out)
	}
}
