package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pairConf is one keepalived.conf for both directors of a pair, the way such files are
// written: the config id picks each box's lines, parameters and an include hold the rest.
const pairConf = `! Configuration File for keepalived
global_defs {
   notification_email {
     ops@example.com
   }
   smtp_server 127.0.0.1
   @r1 router_id director-r1
   @r2 router_id director-r2
   vrrp_skip_check_adv_addr
}

$IFACE=eth0
@r1 $PRIO=150
@r2 $PRIO=100

include instances/*.conf
`

const pairInstance = `# The web VIP: r1 is master, r2 backs it up.
vrrp_instance VI_1 {
    @r1 state MASTER
    @r2 state BACKUP
    interface $IFACE
    virtual_router_id 51
    priority $PRIO
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass longpassword
    }
    virtual_ipaddress {
        ` + VIP + `/32 dev ${IFACE}
    }
}
`

// TestConvertedConfigAgainstKeepalived: keepalived runs a pair's keepalived.conf on r1
// (-i r1); lvsd runs the same file converted with --config-id r2 on r2. lvsd follows
// keepalived as BACKUP (its adverts accepted: same VRID, password cut to 8 bytes, VIP
// list), takes over when keepalived is killed, and yields when it comes back.
func TestConvertedConfigAgainstKeepalived(t *testing.T) {
	l := newLab(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.MkdirAll(filepath.Join(dir, "instances"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(pairConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "instances", "vi_1.conf"), []byte(pairInstance), 0o644); err != nil {
		t.Fatal(err)
	}

	hcl := filepath.Join(dir, "lvsd.hcl")
	out, err := exec.Command(lvsdBin, "convert", "--config-id", "r2", "-o", hcl, conf).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd convert: %v\n%s", err, out)
	}
	for _, want := range []string{conf + ":3: warning: notification_email: dropped", "auth_pass: longer than 8 characters"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lvsd convert output lacks %q:\n%s", want, out)
		}
	}
	converted, _ := os.ReadFile(hcl)
	for _, want := range []string{`router_id = "director-r2"`, `priority          = 100`, `state             = "BACKUP"`, `"` + VIP + `/32 dev eth0"`, "# The web VIP"} {
		if !strings.Contains(string(converted), want) {
			t.Errorf("converted config lacks %q:\n%s", want, converted)
		}
	}

	kdir := filepath.Join(dir, "ka")
	os.MkdirAll(kdir, 0o755)
	startKA := func() *Keepalived {
		k, err := StartKeepalivedConf(l.R1, kdir, conf, "-i", "r1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			k.Cleanup()
			if t.Failed() {
				t.Logf("keepalived on r1:\n%s", k.Log())
			}
		})
		return k
	}
	k := startKA()
	d, err := StartLvsdConfig(lvsdBin, l.R2, filepath.Join(dir, "lvsd"), hcl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Proc.Kill()
		if t.Failed() {
			t.Logf("lvsd on r2:\n%s", d.Proc.Output())
		}
	})

	l.wantVIP(l.R1, true, electTimeout)
	l.wantState(d, "BACKUP", electTimeout)
	l.stable(d, "BACKUP", 4*time.Second) // past Master_Down_Interval: keepalived's adverts are accepted
	st, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R1IP || st.AdvertsReceived == 0 || st.Priority != 100 {
		t.Fatalf("lvsd status %+v: want priority 100 and keepalived's adverts from %s accepted", st, R1IP)
	}
	for reason, n := range st.Drops {
		if n != 0 {
			t.Errorf("lvsd dropped %d of keepalived's adverts for %s", n, reason)
		}
	}
	l.wantVIP(l.R2, false, time.Second)

	if err := k.KillHard(); err != nil {
		t.Fatal(err)
	}
	l.wantState(d, "MASTER", failoverTimeout)
	l.wantVIP(l.R2, true, time.Second)
	checkKeepalivedLog(t, k)
	if _, err := l.R1.IP("addr", "del", VIP+"/32", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}

	// keepalived comes back with the higher priority and preempts lvsd, hearing lvsd's
	// adverts without complaint.
	k2 := startKA()
	l.wantState(d, "BACKUP", electTimeout)
	l.wantVIP(l.R1, true, 3*time.Second)
	l.wantVIP(l.R2, false, time.Second)
	time.Sleep(1500 * time.Millisecond)
	checkKeepalivedLog(t, k2)
}
