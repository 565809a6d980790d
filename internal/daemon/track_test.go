package daemon

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/vrrp"
)

func TestTrackingConfigure(t *testing.T) {
	cfg, err := config.Parse("t.hcl", []byte(`
vrrp_script "chk" {
  script = "/nonexistent/chk arg"
  weight = -20
}
vrrp_script "grp" {
  script = "/nonexistent/grp"
}
vrrp_track_file "f" {
  file   = "/run/prio"
  weight = 2
}
vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  track_script = ["chk weight -60"]
  track_interface = ["eth1", "eth2 weight -10 reverse"]
  track_file = ["f"]
  garp_lower_prio_repeat = 0
  garp_master_refresh = 30
}
vrrp_instance "B" {
  interface = "eth0"
  virtual_router_id = 2
  virtual_ipaddress = ["10.0.0.2"]
}
vrrp_instance "C" {
  interface = "eth0"
  virtual_router_id = 3
  virtual_ipaddress = ["10.0.0.3"]
}
vrrp_sync_group "G" {
  group = ["B", "C"]
  track_script = ["grp"]
}`))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := scriptCreds(cfg)
	if err != nil {
		t.Fatal(err)
	}
	trk := newTracking(slog.New(slog.NewTextHandler(io.Discard, nil)))
	trk.setConfig(cfg, creds, context.Background())
	var a, b vrrp.InstanceConfig
	trk.configure(&a, cfg.Instance("A"))
	trk.configure(&b, cfg.Instance("B"))
	want := []vrrp.Tracked{
		{Kind: vrrp.TrackInterface, Name: "eth1"},
		{Kind: vrrp.TrackInterface, Name: "eth2", Weight: -10, Reverse: true},
		{Kind: vrrp.TrackScript, Name: "chk", Weight: -60},
		{Kind: vrrp.TrackFile, Name: "f", Weight: 2},
	}
	if len(a.Tracked) != len(want) {
		t.Fatalf("A tracked %+v", a.Tracked)
	}
	for i := range want {
		if a.Tracked[i] != want[i] {
			t.Errorf("A tracked[%d] = %+v, want %+v", i, a.Tracked[i], want[i])
		}
	}
	if a.GARPLowerPrioRepeat != -1 || a.GARPMasterRefresh.Seconds() != 30 || a.GARPLowerPrioDelay.Seconds() != 5 {
		t.Errorf("A garp: %d %v %v", a.GARPLowerPrioRepeat, a.GARPMasterRefresh, a.GARPLowerPrioDelay)
	}
	if len(b.Tracked) != 1 || b.Tracked[0] != (vrrp.Tracked{Kind: vrrp.TrackScript, Name: "grp"}) || b.GARPLowerPrioRepeat != 5 {
		t.Errorf("B (group member) tracked %+v repeat %d", b.Tracked, b.GARPLowerPrioRepeat)
	}
	if trk.groups["A"] != nil || trk.groups["B"] == nil || trk.groups["B"] != trk.groups["C"] {
		t.Error("sync group members")
	}
	if _, err := credential("no-such-user-here"); err == nil {
		t.Error("an unknown user resolved")
	}
	if c, err := credential("nobody"); err != nil || c == nil || c.Uid == 0 {
		t.Errorf("nobody: %+v %v", c, err)
	}
}
