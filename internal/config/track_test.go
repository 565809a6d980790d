package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const trackSrc = `global {
  script_user = "nobody"
  vrrp_garp_master_refresh = 60
}
vrrp_script "chk_haproxy" {
  script   = "/usr/bin/killall -0 haproxy"
  interval = 2
  weight   = -20
  rise     = 2
  fall     = 3
  user     = "haproxy"
}
vrrp_script "chk_web" {
  script    = "/bin/true 'a b'"
  weight    = "10 reverse"
  init_fail = true
}
vrrp_track_file "prio" {
  file   = "/run/lvsd/prio"
  weight = 1
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  unicast_peer      = ["10.0.0.3"]
  track_script      = ["chk_haproxy", "chk_web weight -30"]
  track_interface   = ["eth1", "eth2 weight -10 reverse"]
  track_file        = ["prio"]
  garp_lower_prio_repeat = 2
  garp_lower_prio_delay  = 0
}
vrrp_instance "VI_2" {
  interface         = "eth1"
  virtual_router_id = 2
  virtual_ipaddress = ["10.0.1.1"]
}
vrrp_instance "VI_3" {
  interface         = "eth2"
  virtual_router_id = 3
  virtual_ipaddress = ["10.0.2.1"]
  track_script      = ["chk_haproxy"]
}
vrrp_sync_group "G1" {
  group         = ["VI_2", "VI_3"]
  notify_master = "/etc/lvsd/group.sh"
  notify        = "/etc/lvsd/group-any.sh"
  track_script  = ["chk_web"]
}
`

func TestTrackingConfig(t *testing.T) {
	cfg, err := Parse("t.hcl", []byte(trackSrc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.Global.ScriptUser != "nobody" || !cfg.Global.EnableScriptSecurity {
		t.Errorf("global: %+v", cfg.Global)
	}
	h := cfg.Script("chk_haproxy")
	if h == nil || h.Interval != 2*time.Second || h.Timeout != 2*time.Second || h.Weight != -20 || h.Rise != 2 ||
		h.Fall != 3 || h.User != "haproxy" || h.InitFail || strings.Join(h.Argv, "|") != "/usr/bin/killall|-0|haproxy" {
		t.Errorf("chk_haproxy: %+v", h)
	}
	w := cfg.Script("chk_web")
	if w == nil || w.Interval != time.Second || w.Timeout != time.Second || w.Weight != 10 || !w.Reverse ||
		w.Rise != 1 || w.Fall != 1 || !w.InitFail || strings.Join(w.Argv, "|") != "/bin/true|a b" {
		t.Errorf("chk_web: %+v", w)
	}
	if f := cfg.TrackFile("prio"); f == nil || f.File != "/run/lvsd/prio" || f.Weight != 1 {
		t.Errorf("prio: %+v", f)
	}
	in := cfg.Instance("VI_1")
	type tr struct {
		name string
		w    int
		rev  bool
	}
	flat := func(ts []Track) []tr {
		var out []tr
		for _, x := range ts {
			out = append(out, tr{x.Name, x.Weight, x.Reverse})
		}
		return out
	}
	check := func(what string, got []Track, want ...tr) {
		t.Helper()
		g := flat(got)
		if len(g) != len(want) {
			t.Errorf("%s = %+v, want %+v", what, g, want)
			return
		}
		for i := range g {
			if g[i] != want[i] {
				t.Errorf("%s = %+v, want %+v", what, g, want)
			}
		}
	}
	check("track_script", in.TrackScripts, tr{"chk_haproxy", -20, false}, tr{"chk_web", -30, false})
	check("track_interface", in.TrackInterfaceWeights, tr{"eth1", 0, false}, tr{"eth2", -10, true})
	check("track_file", in.TrackFiles, tr{"prio", 1, false})
	if strings.Join(in.TrackInterfaces, ",") != "eth1,eth2" {
		t.Errorf("TrackInterfaces = %v", in.TrackInterfaces)
	}
	if in.UnicastSrcIP.IsValid() || len(in.UnicastPeers) != 1 {
		t.Errorf("unicast without unicast_src_ip: src %v peers %v", in.UnicastSrcIP, in.UnicastPeers)
	}
	if in.GARPLowerPrioRepeat != 2 || in.GARPLowerPrioDelay != 0 || in.GARPMasterRefresh != time.Minute {
		t.Errorf("garp timers: repeat %d delay %v refresh %v", in.GARPLowerPrioRepeat, in.GARPLowerPrioDelay, in.GARPMasterRefresh)
	}
	if in2 := cfg.Instance("VI_2"); in2.GARPLowerPrioRepeat != DefaultGARPMasterRepeat || in2.GARPLowerPrioDelay != DefaultGARPMasterDelay {
		t.Errorf("lower prio defaults: %d %v", in2.GARPLowerPrioRepeat, in2.GARPLowerPrioDelay)
	}
	g := cfg.SyncGroupOf("VI_2")
	if g == nil || g.Name != "G1" || strings.Join(g.Instances, ",") != "VI_2,VI_3" || g.NotifyMaster != "/etc/lvsd/group.sh" ||
		g.Notify != "/etc/lvsd/group-any.sh" || len(g.TrackScripts) != 1 || g.TrackScripts[0].Name != "chk_web" {
		t.Errorf("sync group: %+v", g)
	}
	if cfg.SyncGroupOf("VI_1") != nil {
		t.Errorf("VI_1 is in no group")
	}
	// keepalived ignores the weights of a sync group's members: failure = FAULT.
	check("VI_3 track_script", cfg.Instance("VI_3").TrackScripts, tr{"chk_haproxy", 0, false})
	if w := cfg.Warnings.Error(); !strings.Contains(w, `t.hcl:42:24: warning: vrrp_instance "VI_3" is in vrrp_sync_group "G1": the weight of "chk_haproxy" is ignored`) ||
		!strings.Contains(w, `track_script "chk_web" in a sync group: the weight is ignored`) {
		t.Errorf("warnings:\n%s", w)
	}
}

var trackErrorCases = []diagCase{
	{
		name: "unknown names and bad weights",
		src: `vrrp_script "chk" {
  script = "/bin/true"
  weight = 254
  rise   = 0
}
vrrp_script "chk2" {
  script = "/bin/true"
  weight = "-5 backwards"
}
vrrp_track_file "f" {
  file   = "relative"
  weight = 255
}
vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  track_script = ["chk", "chck", "chk2 weight 300", "chk2 wait 3", "chk"]
  track_file = ["nofile"]
  track_interface = ["eth1 weight -254"]
}`,
		want: []string{
			`t.hcl:3:12: weight must be a whole number from -253 to 253, got 254`,
			`t.hcl:4:12: rise must be from 1 to 1000000, got 0`,
			`t.hcl:8:12: weight "-5 backwards": unknown word "backwards" after the weight; only "reverse" may follow it`,
			`t.hcl:11:12: file must be an absolute path, got "relative"`,
			`t.hcl:12:12: weight must be a whole number from -254 to 254, got 255`,
			`t.hcl:18:26: track_script "chck": no vrrp_script block of that name; did you mean "chk"?`,
			`t.hcl:18:34: track_script: "chk2 weight 300": weight must be a whole number from -253 to 253, got "300"`,
			`t.hcl:18:53: track_script: "chk2 wait 3": expected "NAME" or "NAME weight N [reverse]", got "wait" after the name`,
			`t.hcl:18:68: duplicate track_script "chk" (first at t.hcl:18:19)`,
			`t.hcl:19:17: track_file "nofile": no vrrp_track_file block of that name`,
			`t.hcl:20:22: track_interface: "eth1 weight -254": weight must be a whole number from -253 to 253, got "-254"`,
		},
	},
	{
		name: "sync groups",
		src: `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_sync_group "G1" {
  group = ["A", "B"]
  track_script = ["nope"]
}
vrrp_sync_group "G2" {
  group = ["A"]
}
vrrp_sync_group "G1" {
  group = []
}`,
		want: []string{
			`t.hcl:7:17: vrrp_sync_group "G1": no vrrp_instance "B"; did you mean "A"?`,
			`t.hcl:8:19: track_script "nope": no vrrp_script block of that name`,
			`t.hcl:11:12: vrrp_instance "A" is already in vrrp_sync_group "G1" (at t.hcl:7:12); an instance belongs to one sync group`,
			`t.hcl:13:17: duplicate vrrp_sync_group "G1" (first defined at t.hcl:6:17)`,
		},
	},
}

func TestTrackingDiagnostics(t *testing.T) { runErrorCases(t, trackErrorCases) }

// TestScriptSecurity: a root-run script in a directory others can write is refused with the
// attribute's position and the fix; enable_script_security = false turns it into a warning;
// a script run as another user, a safe one and a missing one pass.
func TestScriptSecurity(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // umask-proof
		t.Fatal(err)
	}
	bad := filepath.Join(open, "check.sh")
	good := filepath.Join(dir, "good.sh")
	for _, f := range []string{bad, good} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writable := filepath.Join(dir, "writable.sh")
	if err := os.WriteFile(writable, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(writable, 0o757); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("files made by a non-root test are owned by that user: run as root (make test does)")
	}
	src := func(global string) string {
		return global + `
vrrp_script "c1" {
  script = "` + bad + ` arg"
}
vrrp_script "c2" {
  script = "` + bad + `"
  user   = "nobody"
}
vrrp_script "c3" {
  script = "` + good + `"
}
vrrp_script "c4" {
  script = "` + filepath.Join(dir, "missing.sh") + `"
}
vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  notify_master = "` + writable + `"
}
virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {
    misc_check {
      misc_path = "` + bad + `"
    }
  }
}`
	}
	_, err := Parse("t.hcl", []byte(src("")))
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{
		"t.hcl:3:12: script: " + bad + " would run as root but directory " + open + " is writable by every user (mode 0777); fix:",
		"t.hcl:19:19: notify_master: " + writable + " would run as root but file " + writable + " is writable by every user (mode 0757)",
		"t.hcl:24:19: misc_path: " + bad + " would run as root",
		"set enable_script_security = false",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 3 {
		t.Errorf("%d errors, want 3 (c2 runs as nobody, c3 is safe, c4 does not exist here):\n%s", n, got)
	}
	// script_user makes every script non-root.
	if _, err := Parse("t.hcl", []byte(src(`global { script_user = "nobody" }`))); err != nil {
		t.Errorf("with script_user nobody: %v", err)
	}
	cfg, err := Parse("t.hcl", []byte(src(`global { enable_script_security = false }`)))
	if err != nil {
		t.Fatalf("with enable_script_security = false: %v", err)
	}
	if n := len(cfg.Warnings); n < 3 || !strings.Contains(cfg.Warnings.Error(), "runs as root but") {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}
