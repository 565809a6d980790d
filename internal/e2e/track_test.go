package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// flagScript writes a check script that succeeds while flag exists, returns its path, and
// creates the flag. The script lives in the test's own root-owned directory, so script
// security accepts it.
func (l *lab) flagScript(name string) (script, flag string) {
	l.t.Helper()
	flag = filepath.Join(l.dir, "scripts", name+".ok")
	script = l.writeScript(name+".sh", "test -e "+flag)
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return script, flag
}

// writeScript writes a /bin/sh script running body into the test's root-owned scripts
// directory (so script security accepts it) and returns its path.
func (l *lab) writeScript(name, body string) string {
	l.t.Helper()
	dir := filepath.Join(l.dir, "scripts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatal(err)
	}
	script := filepath.Join(dir, name)
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		l.t.Fatal(err)
	}
	return script
}

func scriptBlock(name, script string, weight int) string {
	return fmt.Sprintf("vrrp_script %q {\n  script = %q\n  interval = 0.2\n  weight = %d\n}\n", name, script, weight)
}

func (l *lab) tracked(d *Lvsd, name string) TrackedStatus {
	l.t.Helper()
	st, err := d.Instance("VI_1")
	if err != nil {
		l.t.Fatal(err)
	}
	for _, tr := range st.Tracked {
		if tr.Name == name {
			return tr
		}
	}
	l.t.Fatalf("no tracked item %q in %+v", name, st.Tracked)
	return TrackedStatus{}
}

func (l *lab) wantEffective(d *Lvsd, prio int, timeout time.Duration) {
	l.t.Helper()
	end := time.Now().Add(timeout)
	for {
		st, err := d.Instance("VI_1")
		if err == nil && st.EffectivePriority == prio {
			return
		}
		if time.Now().After(end) {
			l.t.Fatalf("lvsd on %s: effective priority %d (%v), want %d", d.Host.Name, st.EffectivePriority, err, prio)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestTrackScriptWeight: a real failing script with weight -60 (a per-entry override of the
// block's -10) hands the VIP to the backup and back; a weight-0 script failing means FAULT.
func TestTrackScriptWeight(t *testing.T) {
	l := newLab(t)
	chk, flag := l.flagScript("chk")
	must, mustFlag := l.flagScript("must")
	d1 := l.lvsd(l.R1, Spec{Priority: 150, AuthPass: "1111",
		Inside: "  track_script = [\"chk weight -60\", \"must\"]\n",
		Extra:  scriptBlock("chk", chk, -10) + scriptBlock("must", must, 0)})
	d2 := l.lvsd(l.R2, Spec{Priority: 100, AuthPass: "1111"})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	if tr := l.tracked(d1, "chk"); tr.Weight != -60 || tr.State != "ok" || tr.Effect != "none" {
		t.Fatalf("chk while OK: %+v", tr)
	}

	// The check fails: 150 - 60 = 90 < 100, advertised at once; r2 preempts.
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	l.wantEffective(d1, 90, 3*time.Second)
	l.wantState(d2, "MASTER", failoverTimeout)
	l.wantState(d1, "BACKUP", 3*time.Second)
	l.wantVIP(l.R2, true, time.Second)
	l.wantVIP(l.R1, false, time.Second)
	if tr := l.tracked(d1, "chk"); tr.State != "failed" || tr.Effect != "-60" {
		t.Fatalf("chk while failing: %+v", tr)
	}

	// It recovers: 150 again, r1 preempts back.
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l.wantState(d1, "MASTER", failoverTimeout)
	l.wantState(d2, "BACKUP", 3*time.Second)
	l.wantEffective(d1, 150, time.Second)

	// Weight 0: failure is FAULT (r1 resigns, r2 takes over after its skew).
	if err := os.Remove(mustFlag); err != nil {
		t.Fatal(err)
	}
	l.wantState(d1, "FAULT", 3*time.Second)
	l.wantState(d2, "MASTER", 3*time.Second)
	if err := os.WriteFile(mustFlag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l.wantState(d1, "MASTER", failoverTimeout)
	if !strings.Contains(d1.Proc.Output(), "vrrp_script result changed") || !strings.Contains(d1.Proc.Output(), "VRRP effective priority changed") {
		t.Fatalf("lvsd log lacks the script result and priority lines:\n%s", d1.Proc.Output())
	}
}

// TestKeepalivedTakesOverOnTrackedPriority: lvsd's lowered effective priority goes out in
// its adverts, and a keepalived backup of a priority in between preempts it.
func TestKeepalivedTakesOverOnTrackedPriority(t *testing.T) {
	l := newLab(t)
	chk, flag := l.flagScript("chk")
	d := l.lvsd(l.R1, Spec{Priority: 150, AuthPass: "1111",
		Inside: "  track_script = [\"chk\"]\n", Extra: scriptBlock("chk", chk, -60)})
	l.wantState(d, "MASTER", electTimeout)
	k := l.keepalived(l.R2, Spec{Priority: 100, AuthPass: "1111"})
	time.Sleep(4 * time.Second) // keepalived follows lvsd
	if HasVIP(l.R2, "eth0", VIP) {
		t.Fatal("keepalived took the VIP from a higher priority lvsd")
	}
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	l.wantVIP(l.R2, true, failoverTimeout)
	l.wantState(d, "BACKUP", 3*time.Second)
	l.wantVIP(l.R1, false, time.Second)
	checkKeepalivedLog(t, k)
}

// TestUnicastWithoutSrcIP: unicast_peer alone; the source is the interface's primary
// address.
func TestUnicastWithoutSrcIP(t *testing.T) {
	l := newLab(t)
	d1 := l.lvsd(l.R1, Spec{Priority: 150, Peers: []string{R2IP}})
	d2 := l.lvsd(l.R2, Spec{Priority: 100, Peers: []string{R1IP}})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	l.stable(d2, "BACKUP", 4*time.Second)
	st, err := d2.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R1IP || st.AdvertsReceived == 0 || st.Drops["not_peer"] != 0 {
		t.Fatalf("r2 %+v: want unicast adverts from %s accepted", st, R1IP)
	}
	if err := d1.Proc.Signal(15); err != nil {
		t.Fatal(err)
	}
	l.wantState(d2, "MASTER", failoverTimeout)
}

// TestScriptSecurityRefused: a root-run script in a world-writable directory is refused by
// validate and run, with the attribute's position and the fix.
func TestScriptSecurityRefused(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	if lvsdBinErr != nil {
		t.Fatalf("build lvsd: %v", lvsdBinErr)
	}
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(open, "notify.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "lvsd.hcl")
	src := fmt.Sprintf("global {\n  control_socket = %q\n}\nvrrp_instance \"VI_1\" {\n  interface = \"lo\"\n  virtual_router_id = 1\n  virtual_ipaddress = [\"10.99.0.1\"]\n  notify_master = %q\n}\n",
		filepath.Join(dir, "s.sock"), script)
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate", "--config", cfg}, {"run", "--config", cfg}} {
		cmd := exec.Command(lvsdBin, args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("lvsd %s: %v, want exit 1\n%s", args[0], err, out)
		}
		want := cfg + ":8:19: notify_master: " + script + " would run as root but directory " + open + " is writable by every user"
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), "enable_script_security = false") {
			t.Fatalf("lvsd %s said:\n%s\nwant %q and the fix", args[0], out, want)
		}
	}
	// enable_script_security = false: a warning, and validate passes.
	if err := os.WriteFile(cfg, []byte(strings.Replace(src, "global {", "global {\n  enable_script_security = false", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lvsdBin, "validate", "--config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "warning") {
		t.Fatalf("validate with enable_script_security = false: %v\n%s", err, out)
	}
}
