package config

import (
	"net/netip"
	"testing"
	"time"
)

var vrrp3ErrorCases = []diagCase{
	{
		name: "VRRPv3 advert_int range",
		src: `vrrp_instance "A" {
  vrrp_version = 3
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  advert_int = 41
}
vrrp_instance "B" {
  vrrp_version = 3
  interface = "eth0"
  virtual_router_id = 2
  virtual_ipaddress = ["10.0.0.2"]
  advert_int = 0.001
}`,
		want: []string{
			`t.hcl:6:16: advert_int must be from 0.01 to 40.95 seconds (VRRPv3), got 41`,
			`t.hcl:13:16: advert_int must be from 0.01 to 40.95 seconds (VRRPv3), got 0.001`,
		},
	},
	{
		name: "VRRPv2 advert_int stays whole seconds",
		src: `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  advert_int = 0.5
}`,
		want: []string{`t.hcl:5:16: advert_int must be whole seconds from 1 to 255 (VRRPv2), got 0.5`},
	},
	{
		name: "authentication with VRRPv3",
		src: `global {
  vrrp_version = 3
}
vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  authentication {
    auth_type = "PASS"
    auth_pass = "x"
  }
}`,
		want: []string{`t.hcl:8:3: authentication: VRRPv3 has no authentication (RFC 5798); remove the block or set vrrp_version = 2`},
	},
	{
		name: "vrrp_version range",
		src: `global {
  vrrp_version = 4
}`,
		want: []string{`t.hcl:2:18: vrrp_version must be from 2 to 3, got 4`},
	},
	{
		name: "mixed families",
		src: `vrrp_instance "A" {
  vrrp_version = 3
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["2001:db8::1/64", "10.0.0.1"]
}`,
		want: []string{`t.hcl:5:23: virtual_ipaddress mixes IPv4 and IPv6 (2001:db8::1 is IPv6, but 10.0.0.1 not): an instance advertises one family; move the others to virtual_ipaddress_excluded (not advertised, either family)`},
	},
	{
		name: "IPv6 needs VRRPv3",
		src: `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["2001:db8::1/64"]
}`,
		want: []string{`t.hcl:4:23: virtual_ipaddress 2001:db8::1 is IPv6, which needs vrrp_version = 3 (VRRPv2 runs over IPv4); or move it to virtual_ipaddress_excluded (not advertised)`},
	},
	{
		name: "IPv4 unicast of an IPv6 instance",
		src: `vrrp_instance "A" {
  vrrp_version = 3
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["2001:db8::1/64"]
  unicast_src_ip = "10.0.0.1"
  unicast_peer = ["fe80::2", "10.0.0.2"]
}`,
		want: []string{
			`t.hcl:6:20: unicast_src_ip must be an IPv6 address (the instance's VIPs are IPv6), got 10.0.0.1`,
			`t.hcl:7:30: unicast_peer must be IPv6 addresses (the instance's VIPs are IPv6), got 10.0.0.2`,
		},
	},
}

// TestDiagnostics checks them (and the fuzz target starts from them) with the others.
func init() { errorCases = append(errorCases, vrrp3ErrorCases...) }

func TestVRRP3Load(t *testing.T) {
	cfg, err := Parse("t.hcl", []byte(`global {
  vrrp_version = 3
}
vrrp_instance "V6" {
  interface = "eth0"
  virtual_router_id = 1
  advert_int = 0.1
  accept_mode = false
  virtual_ipaddress = ["2001:db8::1/64"]
  virtual_ipaddress_excluded = ["10.0.0.1", "2001:db8:1::1/64"]
  unicast_src_ip = "2001:db8::10"
  unicast_peer = ["2001:db8::11"]
}
vrrp_instance "V4" {
  vrrp_version = 2
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.2"]
}`))
	if err != nil {
		t.Fatal(err)
	}
	v6, v4 := cfg.VRRPInstances[0], cfg.VRRPInstances[1]
	if v6.VRRPVersion != 3 || !v6.IPv6 || v6.AdvertInt != 100*time.Millisecond || v6.AcceptMode {
		t.Fatalf("V6 = %+v", v6)
	}
	if len(v6.VIPs) != 3 || v6.VIPs[0].Excluded || !v6.VIPs[1].Excluded || !v6.VIPs[2].Excluded {
		t.Fatalf("V6 VIPs = %+v", v6.VIPs)
	}
	if v6.UnicastSrcIP != netip.MustParseAddr("2001:db8::10") || len(v6.UnicastPeers) != 1 {
		t.Fatalf("V6 unicast = %v %v", v6.UnicastSrcIP, v6.UnicastPeers)
	}
	// Same VRID on the same interface: IPv4 and IPv6 virtual routers are separate.
	if v4.VRRPVersion != 2 || v4.IPv6 || !v4.AcceptMode || v4.AdvertInt != time.Second {
		t.Fatalf("V4 = %+v", v4)
	}
}
