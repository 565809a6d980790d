package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/lvs"
)

// TestRunWithoutIPVS: on a kernel without IPVS (this project's host kernel), `lvsd run`
// with a virtual_server refuses to start with a message that says what is missing and how
// to fix it, exits 1, and leaves nothing behind (no VIP, no control socket). On a kernel
// with IPVS the same config must start instead.
func TestRunWithoutIPVS(t *testing.T) {
	l := newLab(t)
	dir := t.TempDir()
	conf, sock := filepath.Join(dir, "lvsd.hcl"), filepath.Join(dir, "lvsd.sock")
	hcl := LvsdConfig("r1", sock, Spec{Priority: 100, State: "MASTER"}) + `
virtual_server "` + VIP + `:80" {
  lb_kind = "DR"
  real_server "10.99.0.21:80" {}
}
`
	if err := os.WriteFile(conf, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := l.R1.Start(lvsdBin, "run", "--config", conf, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	if lvs.CheckAvailable() == nil {
		d := &Lvsd{Host: l.R1, Proc: p, Socket: sock, Config: conf}
		if err := d.WaitState("VI_1", "MASTER", electTimeout); err != nil {
			t.Fatalf("kernel has IPVS, but lvsd did not run: %v\n%s", err, p.Output())
		}
		return
	}
	exited, err := p.Wait(10 * time.Second)
	if !exited {
		t.Fatalf("lvsd still running without IPVS:\n%s", p.Output())
	}
	if err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("exit: %v, want exit status 1", err)
	}
	out := p.Output()
	for _, want := range []string{"virtual_server blocks need IPVS", "IPVS is not available in this kernel", "modprobe ip_vs"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if HasVIP(l.R1, "eth0", VIP) {
		t.Error("the VIP was added although lvsd refused to start")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
}
