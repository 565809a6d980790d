package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// diffBase is the configuration every Diff case edits.
const diffBase = `
global { router_id = "a" }
vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 51
  priority = 100
  virtual_ipaddress = ["10.0.0.100/24", "10.0.0.101/24"]
}
virtual_server "10.0.0.100:80" {
  lb_algo = "rr"
  lb_kind = "DR"
  real_server "10.0.1.1:80" {
    weight = 1
    tcp_check { connect_timeout = 3 }
  }
  real_server "10.0.1.2:80" { weight = 2 }
}
localnode "ln" {
  vrrp_instance = "VI_1"
  mode = "bypass"
  vip = "10.0.0.100"
  port = 80
}
lvs_sync_daemon {
  interface = "eth0"
  vrrp_instance = "VI_1"
}
`

func mustParse(t *testing.T, name, src string) *Config {
	t.Helper()
	cfg, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatalf("parse %s:\n%s\n%v", name, src, err)
	}
	return cfg
}

func TestDiff(t *testing.T) {
	r := strings.NewReplacer // edits of diffBase
	cases := []struct {
		name string
		edit *strings.Replacer
		want []string // Change.String() of every change, in order
	}{
		{name: "no-op", edit: r()},
		{name: "whitespace and comments only", edit: r("priority = 100", "\n\n  # a comment\n  priority    = 100")},
		{name: "blocks reordered", edit: r(`real_server "10.0.1.2:80" { weight = 2 }`, "",
			`  real_server "10.0.1.1:80" {`, `  real_server "10.0.1.2:80" { weight = 2 }
  real_server "10.0.1.1:80" {`)},
		{name: "instance renamed", edit: r(`"VI_1"`, `"VI_A"`), want: []string{
			`change vrrp_instance "VI_A" (eth0 vrid 51 IPv4 multicast): renamed from "VI_1"`,
			`change localnode "ln" (eth0 vrid 51 IPv4 multicast mode bypass): vrrp_instance "VI_1" -> "VI_A"`,
			`change lvs_sync_daemon eth0 sync_id 51: vrrp_instance "VI_1" -> "VI_A"`,
		}},
		{name: "priority", edit: r("priority = 100", "priority = 150"), want: []string{
			`change vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast): priority 100 -> 150 [may cause a VRRP transition]`,
		}},
		{name: "VIP added", edit: r(`"10.0.0.101/24"]`, `"10.0.0.101/24", "10.0.0.102/24"]`), want: []string{
			`change vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast): virtual_ipaddress [10.0.0.100/24 dev eth0, 10.0.0.101/24 dev eth0] -> [10.0.0.100/24 dev eth0, 10.0.0.101/24 dev eth0, 10.0.0.102/24 dev eth0]`,
		}},
		{name: "VIP removed", edit: r(`, "10.0.0.101/24"]`, `]`), want: []string{
			`change vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast): virtual_ipaddress [10.0.0.100/24 dev eth0, 10.0.0.101/24 dev eth0] -> [10.0.0.100/24 dev eth0] [releases a VIP]`,
		}},
		{name: "track_interface restarts", edit: r("priority = 100", "priority = 100\n track_interface = [\"eth1\"]"), want: []string{
			`change vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast): track_interface [] -> [eth1] [restarts the instance, may cause a VRRP transition, releases a VIP]`,
		}},
		{name: "VRID changed is another instance", edit: r("virtual_router_id = 51", "virtual_router_id = 52"), want: []string{
			`remove vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast) [may cause a VRRP transition, releases a VIP]`,
			`add vrrp_instance "VI_1" (eth0 vrid 52 IPv4 multicast) [may cause a VRRP transition]`,
			`remove localnode "ln" (eth0 vrid 51 IPv4 multicast mode bypass)`,
			`add localnode "ln" (eth0 vrid 52 IPv4 multicast mode bypass)`,
			`change lvs_sync_daemon eth0 sync_id 51 -> 52`, // replaced below
		}},
		{name: "unicast is another instance", edit: r("priority = 100", "priority = 100\n unicast_src_ip = \"10.0.0.1\"\n unicast_peer = [\"10.0.0.2\"]"), want: []string{
			`remove vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast) [may cause a VRRP transition, releases a VIP]`,
			`add vrrp_instance "VI_1" (eth0 vrid 51 IPv4 unicast) [may cause a VRRP transition]`,
			`remove localnode "ln" (eth0 vrid 51 IPv4 multicast mode bypass)`,
			`add localnode "ln" (eth0 vrid 51 IPv4 unicast mode bypass)`,
		}},
		{name: "scheduler and weight", edit: r(`lb_algo = "rr"`, `lb_algo = "wrr"`, "weight = 2", "weight = 5"), want: []string{
			`change virtual_server "10.0.0.100:80" (TCP 10.0.0.100:80): lb_algo "rr" -> "wrr"`,
			`change real_server 10.0.1.2:80 in virtual_server TCP 10.0.0.100:80: weight 2 -> 5`,
		}},
		{name: "real server added and removed", edit: r(`"10.0.1.2:80"`, `"10.0.1.3:80"`), want: []string{
			`remove real_server 10.0.1.2:80 in virtual_server TCP 10.0.0.100:80`,
			`add real_server 10.0.1.3:80 in virtual_server TCP 10.0.0.100:80`,
		}},
		{name: "checker changed", edit: r("connect_timeout = 3", "connect_timeout = 5"), want: []string{
			`change checks 10.0.1.1:80 in virtual_server TCP 10.0.0.100:80: tcp_check.connect_timeout 3s -> 5s [resets health state]`,
		}},
		{name: "checker kind changed", edit: r("tcp_check { connect_timeout = 3 }", "misc_check { misc_path = \"/bin/true\" }"), want: []string{
			`change checks 10.0.1.1:80 in virtual_server TCP 10.0.0.100:80: checks tcp_check -> misc_check [resets health state]`,
		}},
		{name: "inherited delay_loop changes the checker", edit: r(`lb_kind = "DR"`, "lb_kind = \"DR\"\n delay_loop = 10"), want: []string{
			`change virtual_server "10.0.0.100:80" (TCP 10.0.0.100:80): delay_loop 1m0s -> 10s`,
			`change checks 10.0.1.1:80 in virtual_server TCP 10.0.0.100:80: tcp_check.warmup 1m0s -> 10s, tcp_check.delay_loop 1m0s -> 10s [resets health state]`,
		}},
		{name: "service protocol changed is another service", edit: r(`lb_algo = "rr"`, "lb_algo = \"rr\"\n protocol = \"UDP\""), want: []string{
			`remove virtual_server "10.0.0.100:80" (TCP 10.0.0.100:80)`,
			`add virtual_server "10.0.0.100:80" (UDP 10.0.0.100:80)`,
		}},
		{name: "localnode mode changed", edit: r(`mode = "bypass"`, `mode = "fwmark"`+"\n peer_mac = \"08:00:27:e1:3c:c5\"\n fwmark = 3",
			`virtual_server "10.0.0.100:80" {`, "virtual_server \"fwmark:3\" {\n}\nvirtual_server \"10.0.0.100:80\" {"), want: []string{
			`add virtual_server "fwmark:3" (fwmark 3)`,
			`remove localnode "ln" (eth0 vrid 51 IPv4 multicast mode bypass)`,
			`add localnode "ln" (eth0 vrid 51 IPv4 multicast mode fwmark)`,
		}},
		{name: "sync daemon removed", edit: r("lvs_sync_daemon {\n  interface = \"eth0\"\n  vrrp_instance = \"VI_1\"\n}", ""), want: []string{
			`remove lvs_sync_daemon eth0 sync_id 51`,
		}},
		{name: "global", edit: r(`router_id = "a"`, `router_id = "b"`), want: []string{
			`change global: router_id "a" -> "b"`,
		}},
	}
	old := mustParse(t, "old.hcl", diffBase)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.edit.Replace(diffBase)
			new := mustParse(t, "new.hcl", src)
			got := Diff(old, new)
			var lines []string
			for _, c := range got.Changes {
				lines = append(lines, c.String())
			}
			want := tc.want
			if tc.name == "VRID changed is another instance" {
				// The sync daemon's sync_id defaults to the VRID: another sync daemon.
				want = append(want[:4], `remove lvs_sync_daemon eth0 sync_id 51`, `add lvs_sync_daemon eth0 sync_id 52`)
			}
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
			if got.Empty() != (len(want) == 0) {
				t.Errorf("Empty() = %v with %d changes", got.Empty(), len(want))
			}
			// The reverse diff has as many changes (adds and removes swap).
			if back := Diff(new, old); len(back.Changes) != len(got.Changes) {
				t.Errorf("reverse Diff has %d changes, want %d", len(back.Changes), len(got.Changes))
			}
		})
	}
}

func TestDiffFlags(t *testing.T) {
	old := mustParse(t, "old.hcl", diffBase)
	p := Diff(old, mustParse(t, "new.hcl", strings.NewReplacer("virtual_router_id = 51", "virtual_router_id = 52").Replace(diffBase)))
	rm, ok := p.Find(KindVRRPInstance, "", "eth0 vrid 51 IPv4 multicast")
	if !ok || rm.Op != OpRemove || !rm.Transition || !rm.ReleasesVIP {
		t.Errorf("removed instance: %+v", rm)
	}
	for _, c := range Diff(old, mustParse(t, "new.hcl", strings.NewReplacer("weight = 2", "weight = 3", `"rr"`, `"wlc"`).Replace(diffBase))).Changes {
		if c.Transition || c.ReleasesVIP || c.RecreatesService || c.ResetsHealth {
			t.Errorf("weight/scheduler change has a cost: %s", c)
		}
	}
	// Nothing compared against nil: every block is added.
	all := Diff(nil, old)
	if n := len(all.Of(KindVirtualServer)); n != 1 {
		t.Errorf("Diff(nil, cfg) has %d virtual_server changes, want 1", n)
	}
	if len(Diff(old, old).Changes) != 0 {
		t.Errorf("Diff(cfg, cfg) is not empty")
	}
}

func TestPlanJSON(t *testing.T) {
	old := mustParse(t, "old.hcl", diffBase)
	p := Diff(old, mustParse(t, "new.hcl", strings.Replace(diffBase, "priority = 100", "priority = 90", 1)))
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"changes":[{"op":"change","kind":"vrrp_instance","id":"eth0 vrid 51 IPv4 multicast","name":"VI_1","fields":[{"name":"priority","old":"100","new":"90"}],"vrrp_transition":true,"releases_vip":false,"recreates_service":false,"resets_health":false}]}`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant\n%s", b, want)
	}
}

func TestKeyword(t *testing.T) {
	for in, want := range map[string]string{
		"DelayBeforeRetry": "delay_before_retry", "AdvertInt": "advert_int", "VIPs": "virtual_ipaddress",
		"MiscTimeout": "misc_timeout", "ReconcileInterval": "reconcile_interval", "HTTPTimeout": "http_timeout",
	} {
		if got := keyword(in); got != want {
			t.Errorf("keyword(%q) = %q, want %q", in, got, want)
		}
	}
}
