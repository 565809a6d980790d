package config

import "testing"

// TestAllErrorsAtOnce: a bad block label is reported and the block's body is still checked,
// so that the problems after it come out in the same run.
func TestAllErrorsAtOnce(t *testing.T) {
	src := `virtual_server "not-an-address" {
  lb_algo = "bogus"
  real_server "x" {
    weight = -1
    tcp_check { connect_timeout = "soon" }
  }
  real_server "10.0.0.9" {
    weight = 70000
  }
}
virtual_server {
  lb_kind = "nope"
  bogus = 1
}
vrrp_instance "a" "b" {
  typo = 1
}
virtual_server "10.0.0.1:80" {
  real_server "y:80" { weight = -2 }
}
vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 300
}
`
	_, err := Parse("t.hcl", []byte(src))
	checkDiags(t, err, []string{
		`t.hcl:1:16: virtual_server "not-an-address": the label must be "ADDRESS:PORT", "[IPv6]:PORT" or "fwmark:N"`,
		`t.hcl:2:13: unknown lb_algo "bogus"; use one of rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf`,
		`t.hcl:3:15: real_server "x": "x" is not ADDRESS:PORT or [IPv6]:PORT`,
		`t.hcl:4:14: weight must be from 0 to 65535, got -1`,
		`t.hcl:5:35: connect_timeout must be a number of seconds or a duration such as "1500ms", got "soon"`,
		`t.hcl:8:14: weight must be from 0 to 65535, got 70000`,
		`t.hcl:11:1: virtual_server needs a label: write virtual_server "ADDRESS:PORT|fwmark:N" { ... }`,
		`t.hcl:13:3: unknown attribute "bogus" in virtual_server`,
		`t.hcl:15:19: vrrp_instance takes one label: write vrrp_instance "NAME" { ... }`,
		`t.hcl:16:3: unknown attribute "typo" in vrrp_instance`,
		`t.hcl:19:15: real_server "y:80": "y" is not an IP address`,
		`t.hcl:19:33: weight must be from 0 to 65535, got -2`,
		`t.hcl:23:23: virtual_router_id must be from 1 to 255, got 300`,
	})
}

// TestSemanticChecks: mistakes across blocks, each refused or warned at its place.
func TestSemanticChecks(t *testing.T) {
	for _, tc := range []diagCase{
		{"real server is the service's own address", `virtual_server "192.0.2.1:80" {
  lb_kind = "NAT"
  real_server "192.0.2.1:8080" {}
  real_server "192.0.2.2:80" {}
}`, []string{
			`t.hcl:3:3: real server 192.0.2.1:8080 is the virtual server's own address: IPVS would send the traffic back to this service (for a director that also serves, use 127.0.0.1: LVS's local node)`,
		}},
		{"sorry server is a real server", `virtual_server "192.0.2.1:80" {
  sorry_server = "192.0.2.3"
  real_server "192.0.2.2:80" {}
  real_server "192.0.2.3:80" {}
}`, []string{
			`t.hcl:2:18: sorry_server 192.0.2.3:80 is also a real_server of virtual_server "192.0.2.1:80" (at t.hcl:4:3): use another address, or drop the sorry_server`,
		}},
		{"unicast_src_ip is a VIP", `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["192.0.2.10/24"]
  unicast_src_ip = "192.0.2.10"
  unicast_peer = ["192.0.2.11"]
}
vrrp_instance "B" {
  interface = "eth0"
  virtual_router_id = 2
  virtual_ipaddress = ["192.0.2.11/24"]
}`, []string{
			`t.hcl:5:20: unicast_src_ip 192.0.2.10 is a VIP of vrrp_instance "A": the interface's own address cannot be a VIP (it would be deleted when the VIP is released)`,
			`t.hcl:6:18: unicast_peer 192.0.2.11 is a VIP of vrrp_instance "B": a peer's own address cannot be a VIP`,
		}},
		{"one VIP in two instances, other prefix length", `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["192.0.2.10/24"]
}
vrrp_instance "B" {
  interface = "eth1"
  virtual_router_id = 1
  virtual_ipaddress = ["192.0.2.10/32"]
}`, []string{
			`t.hcl:9:24: duplicate VIP 192.0.2.10: already in vrrp_instance "A" (at t.hcl:4:24)`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.hcl", []byte(tc.src))
			checkDiags(t, err, tc.want)
		})
	}
}

func TestSemanticWarnings(t *testing.T) {
	for _, tc := range []diagCase{
		{"fwmark service nothing marks", `virtual_server "fwmark:5" {
  real_server "192.0.2.2:80" {}
}`, []string{
			`t.hcl:1:1: warning: virtual_server "fwmark:5": no localnode in this configuration marks packets with fwmark 5; the service only sees traffic if a firewall rule of your own sets that mark`,
		}},
		{"VIP is a network address", `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["192.0.2.0/24", "192.0.2.1/24", "198.51.100.0/32"]
}`, []string{
			`t.hcl:1:1: warning: vrrp_instance "A": VIP 192.0.2.0/24 is the network address of its prefix, not a host address`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.hcl", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			checkDiags(t, cfg.Warnings, tc.want)
		})
	}
}
