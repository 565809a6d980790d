package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestRunRefusesOwnAddressAsVIP: a VIP equal to the interface's own address cannot be told
// from the config alone (validate accepts it), so `lvsd run` refuses it before touching the
// system: releasing that VIP would delete the machine's address on the link.
func TestRunRefusesOwnAddressAsVIP(t *testing.T) {
	l := newLab(t)
	d, err := StartLvsd(lvsdBin, l.R1, t.TempDir(), Spec{Priority: 100, State: "MASTER", VIPs: []string{R1IP + "/24"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Proc.Kill)
	exited, err := d.Proc.Wait(10 * time.Second)
	if !exited {
		t.Fatalf("lvsd still running with its own address as VIP:\n%s", d.Proc.Output())
	}
	if err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("exit: %v, want exit status 1", err)
	}
	if out := d.Proc.Output(); !strings.Contains(out, "VIP "+R1IP+" is the own address of interface eth0") {
		t.Errorf("output lacks the reason:\n%s", out)
	}
	if has, err := l.R1.HasAddr("eth0", R1IP); err != nil || !has {
		t.Errorf("r1 lost its own address %s (err %v)", R1IP, err)
	}
}
