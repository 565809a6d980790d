package daemon

import (
	"net"
	"net/netip"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/localnode"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/vrrp"
)

func TestDesiredTable(t *testing.T) {
	ap := netip.MustParseAddrPort
	vss := []config.VirtualServer{
		{
			Name: "10.0.0.1:80", Addr: ap("10.0.0.1:80"), Protocol: config.ProtoTCP, LBAlgo: "wrr", LBKind: config.LBDR,
			PersistenceTimeout: 300 * time.Second, PersistenceGranularity: net.CIDRMask(24, 32),
			RealServers: []config.RealServer{
				{Addr: ap("10.0.0.11:80"), Weight: 3, UpperThreshold: 100, LowerThreshold: 10},
				{Addr: ap("10.0.0.12:80"), Weight: 1},
			},
		},
		{
			Name: "fwmark:3", FWMark: 3, LBAlgo: "sh", SchedFallback: true, SchedPort: true, LBKind: config.LBTUN,
			PersistenceGranularity: net.CIDRMask(32, 32),
			RealServers:            []config.RealServer{{Addr: ap("10.0.0.21:0"), Weight: 1}},
		},
		{
			Name: "[2001:db8::1]:53", Addr: ap("[2001:db8::1]:53"), Protocol: config.ProtoUDP, LBAlgo: "rr", OPS: true,
			PersistenceGranularity: net.CIDRMask(128, 128),
		},
	}
	dests := map[string][]healthcheck.Dest{
		"TCP 10.0.0.1:80": {{Address: ap("10.0.0.11:80"), Weight: 3}, {Address: ap("10.0.0.12:80"), Weight: 0}},
		"fwmark 3":        {{Address: ap("10.0.0.21:0"), Weight: 1}},
	}
	got := desiredTable(vss, dests)
	want := lvs.Table{
		{
			Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddr("10.0.0.1"), 80), Scheduler: "wrr",
			Persistence: 300, NetmaskBits: 24,
			Destinations: []lvs.Destination{
				{Addr: netip.MustParseAddr("10.0.0.11"), Port: 80, Weight: 3, Forward: lvs.DR, UpperThreshold: 100, LowerThreshold: 10},
				{Addr: netip.MustParseAddr("10.0.0.12"), Port: 80, Weight: 0, Forward: lvs.DR},
			},
		},
		{
			Key: lvs.FWMarkKey(lvs.IPv4, 3), Scheduler: "sh", Flags: lvs.FlagSched1 | lvs.FlagSched2,
			Destinations: []lvs.Destination{{Addr: netip.MustParseAddr("10.0.0.21"), Port: 0, Weight: 1, Forward: lvs.TUN}},
		},
		{
			Key: lvs.AddrKey(lvs.UDP, netip.MustParseAddr("2001:db8::1"), 53), Scheduler: "rr", Flags: lvs.FlagOnePacket,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("desiredTable:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("desired table does not validate: %v", err)
	}
}

func TestHealthCheckMapping(t *testing.T) {
	c := config.Check{Kind: config.CheckSSL, ConnectIP: netip.MustParseAddr("10.0.0.5"), ConnectPort: 443,
		ConnectTimeout: 3 * time.Second, Retry: 2, DelayBeforeRetry: 4 * time.Second, DelayLoop: 10 * time.Second,
		Warmup: 0, Virtualhost: "www.example.com", EnableSNI: true,
		URLs: []config.URL{{Path: "/health", StatusCodes: []config.StatusRange{{Min: 200, Max: 204}}, Digest: "abc"}}}
	hc := healthCheck(&c, nil)
	if hc.Warmup != 0 {
		t.Errorf("explicit warmup 0 must reach the manager as 0 (all first checks at once), got %v", hc.Warmup)
	}
	if hc.Retry != 2 || hc.DelayBeforeRetry != 4*time.Second || hc.DelayLoop != 10*time.Second {
		t.Errorf("timing: %+v", hc)
	}
	h := hc.HTTP
	if h == nil || !h.TLS || !h.EnableSNI || h.VirtualHost != "www.example.com" || h.Target.String() != "10.0.0.5:443" ||
		h.ConnectTimeout != 3*time.Second || len(h.URLs) != 1 || h.URLs[0].StatusCodes[0].Max != 204 {
		t.Errorf("ssl_get mapped to %+v", h)
	}
	c = config.Check{Kind: config.CheckMisc, MiscPath: "/bin/check 'a b'", MiscTimeout: time.Second, MiscDynamic: true, Warmup: time.Minute}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	hc = healthCheck(&c, nobody)
	if hc.Misc == nil || hc.Misc.Path != "/bin/check 'a b'" || !hc.Misc.Dynamic || hc.Warmup != time.Minute || hc.Misc.Cred != nobody {
		t.Errorf("misc_check mapped to %+v", hc)
	}
	// script_user reaches every misc_check of every real server.
	cfg := &config.Config{Global: config.Global{ScriptUser: "nobody"}, VirtualServers: []config.VirtualServer{
		{RealServers: []config.RealServer{{Checks: []config.Check{c}}}}}}
	hs := healthConfig(cfg.VirtualServers, scriptCred(cfg))
	if got := hs[0].RealServers[0].Checks[0].Misc.Cred; got == nil || got.Uid == 0 {
		t.Errorf("script_user nobody: misc_check runs as %+v, want nobody's uid", got)
	}
}

// TestRoleOf is the one VRRP state -> role mapping, as localnode and the sync daemon see it.
func TestRoleOf(t *testing.T) {
	for _, tc := range []struct {
		state vrrp.State
		local localnode.Role
		sync  lvs.SyncRole
	}{
		{vrrp.StateMaster, localnode.RoleMaster, lvs.SyncMaster},
		{vrrp.StateBackup, localnode.RoleBackup, lvs.SyncBackup},
		{vrrp.StateFault, localnode.RoleBackup, lvs.SyncBackup},
		{vrrp.StateInit, localnode.RoleBackup, 0},
	} {
		r := roleOf(tc.state)
		if r.localnode() != tc.local || r.sync() != tc.sync {
			t.Errorf("%v: localnode %v sync %v, want %v %v", tc.state, r.localnode(), r.sync(), tc.local, tc.sync)
		}
	}
}
