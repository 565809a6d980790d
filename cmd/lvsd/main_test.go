package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/daemon"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = dispatch(args, &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validConfig = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.10"]
}
virtual_server "192.0.2.10:80" {
  lb_kind = "DR"
  real_server "192.0.2.21:80" {}
  real_server "192.0.2.22:80" {}
}
`

func TestValidate(t *testing.T) {
	good := writeFile(t, "good.hcl", validConfig)
	code, out, errOut := runCLI("validate", "--config", good)
	if code != 0 || !strings.Contains(out, "1 vrrp instance, 1 virtual server, 2 real servers") || errOut != "" {
		t.Errorf("valid config: code %d, stdout %q, stderr %q", code, out, errOut)
	}

	bad := writeFile(t, "bad.hcl", `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 300
  priorty           = 100
}
`)
	code, out, errOut = runCLI("validate", "--config", bad)
	if code != 1 || out != "" {
		t.Errorf("invalid config: code %d, stdout %q", code, out)
	}
	for _, want := range []string{bad + ":3:", bad + ":4:", `"priority"`, "2 problems, nothing applied"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("invalid config: stderr lacks %q:\n%s", want, errOut)
		}
	}
	// run refuses the same config with the same diagnostics, before touching anything.
	rcode, _, rerr := runCLI("run", "--config", bad, "--socket", filepath.Join(t.TempDir(), "s"))
	if rcode != 1 || rerr != errOut {
		t.Errorf("run on invalid config: code %d, stderr\n%s\nwant the same as validate:\n%s", rcode, rerr, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"validate"},
		{"validate", "--config"},
		{"validate", "--config", "x", "extra"},
		{"validate", "--nope"},
		{"run"},
		{"run", "--config", "x", "--log-format", "xml"},
		{"run", "--config", "x", "--log-level", "loud"},
		{"status", "extra"},
		{"ipvs"},
		{"ipvs", "flush"},
		{"ipvs", "list", "--stats", "--rate"},
		{"help", "bogus"},
	} {
		code, out, errOut := runCLI(args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stdout %q, stderr %q)", args, code, out, errOut)
		}
		if errOut == "" {
			t.Errorf("%q: no message on stderr", args)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI("--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name) {
			t.Errorf("--help does not list %q", c.name)
		}
	}
	for _, cmd := range []string{"run", "validate", "status", "ipvs", "version"} {
		for _, args := range [][]string{{cmd, "--help"}, {"help", cmd}} {
			code, out, errOut := runCLI(args...)
			if code != 0 || !strings.Contains(out, "Usage: lvsd "+cmd) || errOut != "" {
				t.Errorf("%q: code %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
	}
	code, out, _ = runCLI("version")
	if code != 0 || !strings.HasPrefix(out, "lvsd ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestStatusNoDaemon(t *testing.T) {
	code, _, errOut := runCLI("status", "--socket", filepath.Join(t.TempDir(), "none.sock"))
	if code != 1 || !strings.Contains(errOut, "no lvsd is listening on") {
		t.Errorf("status without daemon: %d %q", code, errOut)
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := &daemon.Status{
		Version: "v1", RouterID: "director-a", StartedAt: now.Add(-time.Minute),
		VRRP: []daemon.VRRPStatus{{
			Name: "VI_1", State: "MASTER", Priority: 100, EffectivePriority: 100, Interface: "eth0",
			VIPs: []string{"172.16.0.30/32"}, MasterIP: "172.16.0.31", AdvertsSent: 60, Version: 2, Family: "inet",
			Drops: map[string]uint64{"ttl": 2, "vrid": 0}, Errors: map[string]uint64{"garp": 1}, Transitions: 2,
			LastTransition: &daemon.TransitionStatus{At: now.Add(-30 * time.Second), From: "BACKUP", To: "MASTER", Reason: "master down timer expired"},
		}},
		VirtualServers: []daemon.VirtualServerStatus{{
			Name: "172.16.0.30:80", Protocol: "TCP", Scheduler: "rr", Kind: "DR",
			RealServers: []daemon.RealServerStatus{
				{Address: "172.16.0.31:80", Weight: 1, Healthy: true, LastCheck: now.Add(-2 * time.Second), LastResult: "ok"},
				{Address: "172.16.0.32:80", Weight: 0, Healthy: false, LastCheck: now.Add(-time.Second), LastResult: "connect 172.16.0.32:80: connection refused, 2nd failure"},
			},
		}},
	}
	var b bytes.Buffer
	writeStatusText(&b, st, false, now)
	out := b.String()
	for _, want := range []string{
		"lvsd v1, router_id director-a, up 1m0s",
		"VI_1  MASTER  100   100        eth0       172.16.0.31  172.16.0.30/32",
		"VI_1: VRRPv2 inet, adverts sent 60",
		"dropped ttl=2, errors garp=1; last BACKUP -> MASTER (master down timer expired) 30s ago",
		"172.16.0.30:80 TCP rr DR",
		"-> 172.16.0.32:80  weight 0  down  last check 1s ago: connect 172.16.0.32:80: connection refused, 2nd failure",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
}

func TestStatusSummaryText(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := &daemon.Status{Version: "v1", RouterID: "director-a", StartedAt: now,
		VirtualServers: []daemon.VirtualServerStatus{
			{Name: "172.16.0.30:80", Protocol: "TCP", Scheduler: "rr", Kind: "DR", RealServersTotal: 16, RealServersUp: 15},
			// A daemon older than the counts sends the list only.
			{Name: "172.16.0.30:443", Protocol: "TCP", Scheduler: "wlc", Kind: "DR", SorryActive: true, SorryServer: "172.16.0.40:443",
				RealServers: []daemon.RealServerStatus{{Address: "172.16.0.31:443"}, {Address: "172.16.0.32:443", Healthy: true}}},
		}}
	daemon.CountRealServers(st.VirtualServers)
	var b bytes.Buffer
	writeStatusText(&b, st, true, now)
	out := b.String()
	for _, want := range []string{
		"172.16.0.30:80   TCP  rr   DR  15/16 real servers up\n",
		"172.16.0.30:443  TCP  wlc  DR  1/2 real servers up, quorum lost: sorry server 172.16.0.40:443 active\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "->") {
		t.Errorf("summary lists real servers:\n%s", out)
	}
}
