package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// bypassBlock is seed 001's fix 2 as config: while not MASTER, VIP traffic is redirected
// to the local service so that this box's IPVS never balances it (replaces
// bypass_ipvs.sh and the notify_* lines).
const bypassBlock = `
localnode "web" {
  vrrp_instance = "VI_1"
  mode          = "bypass"
  vip           = "` + VIP + `"
  port          = 80
  protocol      = "TCP"
}
`

// natRules lists h's nat PREROUTING rules tagged by lvsd.
func (l *lab) taggedRules(d *Lvsd) []string {
	l.t.Helper()
	out, err := d.Host.Exec("iptables", "-w", "5", "-t", "nat", "-S", "PREROUTING")
	if err != nil {
		l.t.Fatalf("iptables -S on %s: %v: %s", d.Host.Name, err, out)
	}
	var rules []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "lvsd:localnode:web") {
			rules = append(rules, line)
		}
	}
	return rules
}

func (l *lab) wantBypass(d *Lvsd, present bool, timeout time.Duration) {
	l.t.Helper()
	end := time.Now().Add(timeout)
	for {
		rules := l.taggedRules(d)
		ok := len(rules) == 0
		if present {
			ok = len(rules) == 1 && strings.Contains(rules[0], "-d "+VIP+"/32") &&
				strings.Contains(rules[0], "--dport 80") && strings.Contains(rules[0], "-j REDIRECT")
		}
		if ok {
			return
		}
		if time.Now().After(end) {
			l.t.Fatalf("bypass rule on %s: got %q, want present=%v", d.Host.Name, rules, present)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLocalnodeBypass: the redirect rule is on the BACKUP and not on the MASTER, follows a
// failover, leaves foreign rules alone, and is gone after a graceful stop.
func TestLocalnodeBypass(t *testing.T) {
	l := newLab(t)
	// A rule lvsd does not own, which it must never touch.
	if out, err := l.R2.Exec("iptables", "-w", "5", "-t", "nat", "-A", "PREROUTING", "-p", "udp", "--dport", "53", "-j", "ACCEPT"); err != nil {
		t.Fatalf("add foreign rule: %v: %s", err, out)
	}
	d1 := l.lvsd(l.R1, Spec{Priority: 150, State: "MASTER", Extra: bypassBlock})
	d2 := l.lvsd(l.R2, Spec{Priority: 100, Extra: bypassBlock})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	l.wantBypass(d1, false, 2*time.Second)
	l.wantBypass(d2, true, 2*time.Second)

	st, err := d2.Status()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Localnodes) != 1 || !st.Localnodes[0].Installed || st.Localnodes[0].Mode != "bypass" {
		t.Errorf("backup's status localnodes = %+v", st.Localnodes)
	}

	// The master dies: the backup takes over and drops its bypass rule.
	d1.Proc.Kill()
	l.wantState(d2, "MASTER", 5*time.Second)
	l.wantBypass(d2, false, 2*time.Second)

	// Graceful stop removes every rule lvsd installed, and only those.
	if err := d2.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if exited, err := d2.Proc.Wait(3 * time.Second); !exited || err != nil {
		t.Fatalf("lvsd after SIGTERM: exited %v within 3s, error %v (want exit status 0)", exited, err)
	}
	l.wantBypass(d2, false, time.Second)
	out, err := l.R2.Exec("iptables", "-w", "5", "-t", "nat", "-S", "PREROUTING")
	if err != nil || !strings.Contains(out, "--dport 53 -j ACCEPT") {
		t.Errorf("foreign rule gone after lvsd stopped: %v\n%s", err, out)
	}
}
