package e2e

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// keepalivedRejects matches keepalived 2.2.7's log lines for adverts it refuses (strings
// from its vrrp_check_packet and friends): none may ever be about lvsd's adverts.
var keepalivedRejects = regexp.MustCompile(`(?i)(vrrp packet too|invalid TTL|wrong version|auth, expecting|invalid passwd|interval mismatch|invalid packet type|unexpected ip number count|ip_tot_len mismatch|icast packet but received|VIPs but received|not present in MASTER advert|not a unicast peer|not in range|invalid.*checksum|checksum.*invalid)`)

func checkKeepalivedLog(t *testing.T, k *Keepalived) {
	t.Helper()
	for _, line := range strings.Split(k.Log(), "\n") {
		if keepalivedRejects.MatchString(line) {
			t.Errorf("keepalived on %s rejected an advert: %s", k.Host.Name, line)
		}
	}
}

// TestInteropKeepalivedMaster: keepalived (priority 150) is master, lvsd (100) follows it,
// takes over when keepalived is killed, and yields when keepalived comes back.
func TestInteropKeepalivedMaster(t *testing.T) {
	l := newLab(t)
	ks := Spec{Priority: 150, AuthPass: "1111"}
	k := l.keepalived(l.R1, ks)
	d := l.lvsd(l.R2, Spec{Priority: 100, AuthPass: "1111"})
	l.wantVIP(l.R1, true, electTimeout)
	l.wantState(d, "BACKUP", electTimeout)
	l.stable(d, "BACKUP", 4*time.Second) // past Master_Down_Interval: adverts are accepted
	st, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R1IP || st.AdvertsReceived == 0 {
		t.Fatalf("lvsd status %+v: want keepalived's adverts from %s accepted", st, R1IP)
	}
	for reason, n := range st.Drops {
		if n != 0 {
			t.Errorf("lvsd dropped %d of keepalived's packets for %s", n, reason)
		}
	}
	l.wantVIP(l.R2, false, time.Second)

	if err := k.KillHard(); err != nil {
		t.Fatal(err)
	}
	l.wantState(d, "MASTER", failoverTimeout)
	l.wantVIP(l.R2, true, time.Second)
	l.wantARP(l.R2, 3*time.Second)
	checkKeepalivedLog(t, k)
	// The killed keepalived left its VIP; clear it as a reboot would.
	if _, err := l.R1.IP("addr", "del", VIP+"/32", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}

	// keepalived comes back with the higher priority and preempts lvsd.
	k2 := l.keepalived(l.R1, ks)
	l.wantState(d, "BACKUP", electTimeout)
	l.wantVIP(l.R1, true, 3*time.Second)
	l.wantVIP(l.R2, false, time.Second)
	time.Sleep(1500 * time.Millisecond) // keepalived hears lvsd's adverts, if any
	checkKeepalivedLog(t, k2)
}

// TestInteropLvsdMaster: lvsd (150) is master, keepalived (100) stays backup (it accepts
// lvsd's adverts: it never claims the VIP), takes over on lvsd's graceful stop and yields
// when lvsd comes back.
func TestInteropLvsdMaster(t *testing.T) {
	l := newLab(t)
	ds := Spec{Priority: 150, AuthPass: "1111"}
	d := l.lvsd(l.R1, ds)
	l.wantState(d, "MASTER", electTimeout)
	k := l.keepalived(l.R2, Spec{Priority: 100, AuthPass: "1111"})
	// keepalived would claim the VIP after 3.61 s if it refused lvsd's adverts.
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		if HasVIP(l.R2, "eth0", VIP) {
			t.Fatalf("keepalived took the VIP from lvsd's master:\n%s", k.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(k.Log(), "Entering BACKUP STATE") {
		t.Errorf("keepalived never logged 'Entering BACKUP STATE'")
	}
	checkKeepalivedLog(t, k)

	// Graceful stop: keepalived takes over on lvsd's priority-0 advert.
	if err := d.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	l.wantVIP(l.R2, true, 3*time.Second)
	l.wantVIP(l.R1, false, time.Second)
	l.wantARP(l.R2, 3*time.Second)

	// lvsd comes back and preempts keepalived.
	d2 := l.lvsd(l.R1, ds)
	l.wantState(d2, "MASTER", electTimeout)
	l.wantVIP(l.R2, false, 3*time.Second)
	l.wantVIP(l.R1, true, time.Second)
	l.stable(d2, "MASTER", 2*time.Second)
	checkKeepalivedLog(t, k)
	if err := k.Stop(); err != nil {
		t.Error(err)
	}
}
