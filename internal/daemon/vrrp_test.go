package daemon

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/script"
	"github.com/lvsd/lvsd/vrrp"
)

func TestInstanceConfig(t *testing.T) {
	in := &config.VRRPInstance{
		Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 150, AdvertInt: 2 * time.Second,
		Preempt: false, PreemptDelay: 5 * time.Second, AuthType: config.AuthPass, AuthPass: "1111",
		InitialState: config.StateMaster,
		VIPs: []config.VIP{
			{Prefix: netip.MustParsePrefix("172.16.0.30/24"), Dev: "eth0"},
			{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Dev: "eth1", Label: "eth1:0"},
		},
		UnicastSrcIP: netip.MustParseAddr("172.16.0.31"), UnicastPeers: []netip.Addr{netip.MustParseAddr("172.16.0.32")},
		TrackInterfaces: []string{"eth1"}, GARPMasterDelay: 5 * time.Second, GARPMasterRepeat: 3,
	}
	got := instanceConfig(in, in.UnicastSrcIP)
	want := vrrp.InstanceConfig{
		Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 150, AdvertInt: 2 * time.Second,
		Preempt: false, PreemptDelay: 5 * time.Second, AuthType: vrrp.AuthPass, AuthPass: "1111",
		VIPs: []vrrp.VIP{
			{Prefix: netip.MustParsePrefix("172.16.0.30/24"), Dev: "eth0"},
			{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Dev: "eth1", Label: "eth1:0"},
		},
		PrimaryIP: netip.MustParseAddr("172.16.0.31"), UnicastPeers: []netip.Addr{netip.MustParseAddr("172.16.0.32")},
		InitialState: vrrp.StateMaster, GARPRepeat: 3, GARPDelay: 5 * time.Second, TrackInterfaces: []string{"eth1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("instanceConfig:\n got %+v\nwant %+v", got, want)
	}
	in.AuthType, in.InitialState = config.AuthNone, config.StateBackup
	got = instanceConfig(in, in.UnicastSrcIP)
	if got.AuthType != vrrp.AuthNone || got.AuthPass != "" || got.InitialState != vrrp.StateBackup {
		t.Errorf("no auth, BACKUP: got auth %d %q, state %v", got.AuthType, got.AuthPass, got.InitialState)
	}
}

// The hooks of a transition run in order: the state's own script, then `notify` with
// keepalived's arguments; the stop is reported as STOP.
func TestHookNotifierOrder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hooks.log")
	rec := func(word string) string {
		return `/bin/sh -c 'echo "$*" >> ` + out + `' hook ` + word
	}
	cfg := &config.VRRPInstance{
		Name: "VI_1", NotifyMaster: rec("master"), NotifyBackup: rec("backup"), NotifyFault: rec("fault"),
		NotifyStop: rec("stop"), Notify: rec("notify"),
	}
	q := script.NewQueue(context.Background(), nil, 10*time.Second)
	var reactions []string
	n := &hookNotifier{cfg: cfg, queue: q, react: func(_ string, s vrrp.State) { reactions = append(reactions, s.String()) }}
	n.Notify("VI_1", vrrp.StateBackup, 100)
	n.Notify("VI_1", vrrp.StateMaster, 100)
	n.Notify("VI_1", vrrp.StateFault, 100)
	n.Notify("VI_1", vrrp.StateInit, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"backup", "notify INSTANCE VI_1 BACKUP 100",
		"master", "notify INSTANCE VI_1 MASTER 100",
		"fault", "notify INSTANCE VI_1 FAULT 100",
		"stop", "notify INSTANCE VI_1 STOP 100",
	}, "\n") + "\n"
	if string(b) != want {
		t.Errorf("hooks ran as\n%s\nwant\n%s", b, want)
	}
	if !reflect.DeepEqual(reactions, []string{"BACKUP", "MASTER", "FAULT", "INIT"}) {
		t.Errorf("reactions = %v", reactions)
	}
}
