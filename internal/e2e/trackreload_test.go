package e2e

import (
	"os"
	"testing"
	"time"
)

// TestReloadChangesTrackWeight: a running master tracks a failing vrrp_script whose weight
// (-10: 150 -> 140) leaves it master; a reload to weight -60 (150 -> 90 < 100) hands the VIP
// to the backup without a restart, and reloading the first config gives it back.
func TestReloadChangesTrackWeight(t *testing.T) {
	l := newLab(t)
	chk, flag := l.flagScript("chk")
	if err := os.Remove(flag); err != nil { // failing from the start
		t.Fatal(err)
	}
	spec := func(weight int) Spec {
		return Spec{Priority: 150, AuthPass: "1111",
			Inside: "  track_script = [\"chk\"]\n", Extra: scriptBlock("chk", chk, weight)}
	}
	d1 := l.lvsd(l.R1, spec(-10))
	d2 := l.lvsd(l.R2, Spec{Priority: 100, AuthPass: "1111"})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	l.wantEffective(d1, 140, 3*time.Second)
	if tr := l.tracked(d1, "chk"); tr.State != "failed" || tr.Weight != -10 {
		t.Fatalf("chk before the reload: %+v", tr)
	}

	reload := func(weight int) {
		t.Helper()
		if err := d1.WriteConfig(spec(weight)); err != nil {
			t.Fatal(err)
		}
		if r, err := d1.Reload(); err != nil || r.Code != 0 {
			t.Fatalf("reload to weight %d: %v %v", weight, r, err)
		}
	}

	// Weight -60: 90 is advertised, r2 (100) preempts.
	reload(-60)
	l.wantEffective(d1, 90, 3*time.Second)
	l.wantState(d2, "MASTER", failoverTimeout)
	l.wantState(d1, "BACKUP", 3*time.Second)
	l.wantVIP(l.R2, true, time.Second)
	l.wantVIP(l.R1, false, time.Second)
	if tr := l.tracked(d1, "chk"); tr.State != "failed" || tr.Weight != -60 || tr.Effect != "-60" {
		t.Fatalf("chk after the reload to -60: %+v", tr)
	}

	// Back to -10: 140 again, r1 preempts back.
	reload(-10)
	l.wantEffective(d1, 140, 3*time.Second)
	l.wantState(d1, "MASTER", failoverTimeout)
	l.wantState(d2, "BACKUP", 3*time.Second)
	l.wantVIP(l.R1, true, time.Second)
	select {
	case <-d1.Proc.Exited():
		t.Fatal("lvsd on r1 exited during the reloads")
	default:
	}
}
