package config

// Configuration snippets and the exact diagnostics (file t.hcl) each must produce, in order.
// Positions are those of the offending value, keyword or label.

type diagCase struct {
	name string
	src  string
	want []string
}

var errorCases = []diagCase{
	{
		name: "unknown attribute",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  priorty = 100
}`,
		want: []string{
			`t.hcl:5:3: unknown attribute "priorty" in vrrp_instance "V"; did you mean "priority"?`,
		},
	},
	{
		name: "unknown block",
		src: `virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {
    tcp_chek {}
  }
}`,
		want: []string{
			`t.hcl:3:5: unknown block "tcp_chek" in real_server "10.0.0.2"; did you mean "tcp_check"?`,
		},
	},
	{
		name: "uppercase keepalived block",
		src: `virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {
    TCP_CHECK {}
  }
}`,
		want: []string{
			`t.hcl:3:5: unknown block "TCP_CHECK" in real_server "10.0.0.2"; did you mean "tcp_check"?`,
		},
	},
	{
		name: "keepalived spelling",
		src: `virtual_server "10.0.0.1:80" {
  lvs_sched = "rr"
  real_server "10.0.0.2" {
    tcp_check {
      nb_get_retry = 3
    }
  }
}`,
		want: []string{
			`t.hcl:2:3: unknown attribute "lvs_sched" in virtual_server "10.0.0.1:80"; did you mean "lb_algo"?`,
			`t.hcl:5:7: unknown attribute "nb_get_retry" in tcp_check; did you mean "retry"?`,
		},
	},
	{
		name: "unknown top",
		src: `vrrp_instanc "V" {
}
global_defs {
}`,
		want: []string{
			`t.hcl:1:1: unknown block "vrrp_instanc" at the top level; did you mean "vrrp_instance"?`,
			`t.hcl:3:1: unknown block "global_defs" at the top level; did you mean "global"?`,
		},
	},
	{
		name: "block as attr",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  authentication = "PASS"
  virtual_ipaddress {
  }
}`,
		want: []string{
			`t.hcl:5:3: "authentication" is a block, not an attribute: write authentication { ... }`,
			`t.hcl:6:3: "virtual_ipaddress" is an attribute, not a block: write virtual_ipaddress = ...`,
		},
	},
	{
		name: "missing required",
		src: `vrrp_instance "V" {
  virtual_ipaddress = ["10.0.0.1"]
}`,
		want: []string{
			`t.hcl:1:1: vrrp_instance "V": missing required attribute "interface"`,
			`t.hcl:1:1: vrrp_instance "V": missing required attribute "virtual_router_id"`,
		},
	},
	{
		name: "labels",
		src: `vrrp_instance {
}
global "x" {
}
virtual_server "10.0.0.1:80" "extra" {
}`,
		want: []string{
			`t.hcl:1:1: vrrp_instance needs a label: write vrrp_instance "NAME" { ... }`,
			`t.hcl:3:8: global takes no label: write global { ... }`,
			`t.hcl:5:30: virtual_server takes one label: write virtual_server "ADDRESS:PORT|fwmark:N" { ... }`,
		},
	},
	{
		name: "ranges",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 256
  priority = 0
  advert_int = 1.5
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_instance "W" {
  interface = "eth0"
  virtual_router_id = 0
  priority = 256
  advert_int = "1500ms"
  virtual_ipaddress = ["10.0.0.2"]
}
vrrp_instance "X" {
  interface = "eth0"
  virtual_router_id = "abc"
  priority = 1.5
  advert_int = 0
  preempt_delay = 1001
  virtual_ipaddress = ["10.0.0.3"]
}`,
		want: []string{
			`t.hcl:3:23: virtual_router_id must be from 1 to 255, got 256`,
			`t.hcl:4:14: priority must be from 1 to 255, got 0`,
			`t.hcl:5:16: advert_int must be whole seconds from 1 to 255 (VRRPv2), got 1.5`,
			`t.hcl:10:23: virtual_router_id must be from 1 to 255, got 0`,
			`t.hcl:11:14: priority must be from 1 to 255, got 256`,
			`t.hcl:12:16: advert_int must be whole seconds from 1 to 255 (VRRPv2), got "1500ms"`,
			`t.hcl:17:23: virtual_router_id must be a number, got "abc"`,
			`t.hcl:18:14: priority must be a whole number, got 1.5`,
			`t.hcl:19:16: advert_int must be whole seconds from 1 to 255 (VRRPv2), got 0`,
			`t.hcl:20:19: preempt_delay must be from 0 to 1000 seconds, got 1001`,
		},
	},
	{
		name: "dup names and vrid",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_instance "V" {
  interface = "eth1"
  virtual_router_id = 6
  virtual_ipaddress = ["10.0.0.2"]
}
vrrp_instance "W" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.3"]
}
vrrp_instance "X" {
  interface = "eth1"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.4"]
}`,
		want: []string{
			`t.hcl:6:15: duplicate vrrp_instance "V" (first defined at t.hcl:1:15)`,
			`t.hcl:13:23: virtual_router_id 5 is already used on eth0 by vrrp_instance "V" (at t.hcl:3:23)`,
		},
	},
	{
		name: "vips",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1/24", "10.0.0.300", "10.0.0.1/32", "10.0.0.2 dev", "10.0.0.3 brd 1.2.3.4", "10.0.0.4 dev eth1 label eth0:1", "224.0.0.1", "10.0.0.5/33"]
}
vrrp_instance "W" {
  interface = "eth1"
  virtual_router_id = 5
  virtual_ipaddress = "10.0.0.1"
}`,
		want: []string{
			`t.hcl:4:39: virtual_ipaddress "10.0.0.300": "10.0.0.300" is not an IP address`,
			`t.hcl:4:53: duplicate VIP 10.0.0.1: already in vrrp_instance "V" (at t.hcl:4:24)`,
			`t.hcl:4:68: virtual_ipaddress "10.0.0.2 dev": "dev" needs a value`,
			`t.hcl:4:84: virtual_ipaddress "10.0.0.3 brd 1.2.3.4": unknown option "brd"; options are "dev" and "label"`,
			`t.hcl:4:108: virtual_ipaddress "10.0.0.4 dev eth1 label eth0:1": label "eth0:1" must be the device name "eth1" or start with "eth1:"`,
			`t.hcl:4:142: virtual_ipaddress "224.0.0.1": 224.0.0.1 cannot be a virtual address`,
			`t.hcl:4:155: virtual_ipaddress "10.0.0.5/33": "10.0.0.5/33" is not an address or ADDRESS/LENGTH`,
			`t.hcl:9:23: duplicate VIP 10.0.0.1: already in vrrp_instance "V" (at t.hcl:4:24)`,
		},
	},
	{
		name: "unicast",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
  unicast_src_ip = "10.0.0.10"
}
vrrp_instance "W" {
  interface = "eth0"
  virtual_router_id = 6
  virtual_ipaddress = ["10.0.0.2"]
  unicast_peer = ["10.0.0.11"]
}
vrrp_instance "X" {
  interface = "eth0"
  virtual_router_id = 7
  virtual_ipaddress = ["10.0.0.3"]
  unicast_src_ip = "10.0.0.10"
  unicast_peer = ["10.0.0.10", "10.0.0.12", "10.0.0.12", "2001:db8::1", "nope"]
}`,
		want: []string{
			`t.hcl:5:3: unicast_src_ip without unicast_peer: unicast needs the peers' addresses`,
			`t.hcl:18:19: unicast_peer 10.0.0.10 is this router's own unicast_src_ip`,
			`t.hcl:18:45: duplicate unicast_peer 10.0.0.12 (first at t.hcl:18:32)`,
			`t.hcl:18:58: unicast_peer must be IPv4 addresses (VRRPv2 runs over IPv4), got 2001:db8::1`,
			`t.hcl:18:73: unicast_peer: "nope" is not an IP address`,
		},
	},
	{
		name: "iface and notify and auth",
		src: `vrrp_instance "V" {
  interface = "averyveryverylongname0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
  track_interface = ["eth/1", "eth1", "eth1"]
  notify_master = "/bin/echo 'unbalanced"
  notify = ""
  authentication {
    auth_type = "AH"
  }
  authentication {
    auth_type = "PASS"
  }
}
vrrp_instance "W" {
  interface = "eth0"
  virtual_router_id = 6
  virtual_ipaddress = ["10.0.0.2"]
  authentication {
    auth_type = "PASS"
  }
}
vrrp_instance "X" {
  interface = "eth0"
  virtual_router_id = 7
  virtual_ipaddress = ["10.0.0.3"]
  authentication {
    auth_type = "PASS"
    auth_pass = "123456789"
  }
  state = "BACKUP"
  priority = 255
}
vrrp_instance "Y" {
  interface = "eth0"
  virtual_router_id = 8
  virtual_ipaddress = ["10.0.0.4"]
  state = "master"
  preempt = false
}
vrrp_instance "Z" {
  interface = "eth0"
  virtual_router_id = 9
  state = "SLAVE"
}`,
		want: []string{
			`t.hcl:2:15: interface: interface name "averyveryverylongname0" is longer than 15 bytes`,
			`t.hcl:5:22: track_interface: interface name "eth/1" must not contain '/'`,
			`t.hcl:5:39: duplicate track_interface "eth1" (first at t.hcl:5:31)`,
			`t.hcl:6:19: notify_master: unterminated ' quote at column 11 in "/bin/echo 'unbalanced"`,
			`t.hcl:7:12: notify: empty command`,
			`t.hcl:9:17: auth_type "AH" is not supported; use "PASS" or leave out the authentication block`,
			`t.hcl:11:3: duplicate authentication block in vrrp_instance "V" (first at t.hcl:8:3)`,
			`t.hcl:19:3: authentication: auth_type "PASS" needs auth_pass`,
			`t.hcl:44:11: unknown state "SLAVE"; use "BACKUP" or "MASTER"`,
		},
	},
	{
		name: "vs labels",
		src: `virtual_server "1.2.3.4" {
}
virtual_server "fwmark:0" {
}
virtual_server "1.2.3.4:0" {
}
virtual_server "1.2.3.4:70000" {
}
virtual_server "[2001:db8::1]:80" {
  real_server "[2001:db8::2]:80" {}
}
virtual_server "foo" {
}`,
		want: []string{
			`t.hcl:1:16: virtual_server "1.2.3.4": the label must be "ADDRESS:PORT", "[IPv6]:PORT" or "fwmark:N"`,
			`t.hcl:3:16: virtual_server "fwmark:0": fwmark must be from 1 to 4294967295, got "0"`,
			`t.hcl:5:16: virtual_server "1.2.3.4:0": port must be from 1 to 65535, got "0"`,
			`t.hcl:7:16: virtual_server "1.2.3.4:70000": port must be from 1 to 65535, got "70000"`,
			`t.hcl:12:16: virtual_server "foo": the label must be "ADDRESS:PORT", "[IPv6]:PORT" or "fwmark:N"`,
		},
	},
	{
		name: "vs enums",
		src: `virtual_server "10.0.0.1:80" {
  protocol = "ICMP"
  lb_algo = "roundrobin"
  lb_kind = "MASQ"
  real_server "10.0.0.2" {}
}`,
		want: []string{
			`t.hcl:2:14: unknown protocol "ICMP"; use "TCP", "UDP" or "SCTP"`,
			`t.hcl:3:13: unknown lb_algo "roundrobin"; use one of rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf`,
			`t.hcl:4:13: unknown lb_kind "MASQ"; use "NAT", "DR" or "TUN"`,
		},
	},
	{
		name: "vs dups",
		src: `virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {}
  real_server "10.0.0.2:80" {}
}
virtual_server "10.0.0.1:80" {
  protocol = "UDP"
  real_server "10.0.0.2" {}
}
virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {}
}
virtual_server "fwmark:1" {
  real_server "10.0.0.2" {}
}
virtual_server "FWMARK:1" {
  real_server "10.0.0.3" {}
}`,
		want: []string{
			`t.hcl:3:15: duplicate real_server 10.0.0.2:80 in virtual_server "10.0.0.1:80" (first at t.hcl:2:15)`,
			`t.hcl:9:16: duplicate virtual_server "10.0.0.1:80": same service as virtual_server "10.0.0.1:80" (at t.hcl:1:16)`,
			`t.hcl:15:16: duplicate virtual_server "FWMARK:1": same service as virtual_server "fwmark:1" (at t.hcl:12:16)`,
		},
	},
	{
		name: "dr port",
		src: `virtual_server "10.0.0.1:80" {
  lb_kind = "DR"
  real_server "10.0.0.2:8080" {}
}
virtual_server "10.0.0.1:81" {
  lb_kind = "TUN"
  real_server "10.0.0.2:8080" {}
}
virtual_server "10.0.0.1:82" {
  lb_kind = "NAT"
  real_server "10.0.0.2:8080" {}
}`,
		want: []string{
			`t.hcl:3:15: real server port 8080 differs from the virtual server's port 80; lb_kind DR cannot change the port`,
			`t.hcl:7:15: real server port 8080 differs from the virtual server's port 81; lb_kind TUN cannot change the port`,
		},
	},
	{
		name: "family and vip",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
virtual_server "10.0.0.1:80" {
  sorry_server = "[2001:db8::9]:80"
  real_server "2001:db8::2" {}
  real_server "10.0.0.1" {}
}`,
		want: []string{
			`t.hcl:7:18: sorry_server 2001:db8::9 is IPv6 but the virtual server is IPv4`,
			`t.hcl:8:15: real server 2001:db8::2 is IPv6 but virtual_server "10.0.0.1:80" is IPv4`,
			`t.hcl:9:15: real server address 10.0.0.1 is a VIP of vrrp_instance "V" (at t.hcl:4:24)`,
		},
	},
	{
		name: "weights quorum",
		src: `virtual_server "10.0.0.1:80" {
  quorum = 5
  real_server "10.0.0.2" { weight = 2 }
  real_server "10.0.0.3" { weight = 65536 }
  real_server "10.0.0.4" { weight = -1 }
}
virtual_server "10.0.0.1:81" {
  real_server "10.0.0.2" { weight = 0 }
}`,
		want: []string{
			`t.hcl:2:12: quorum 5 exceeds the total weight 4 of the real servers: the service could never be up`,
			`t.hcl:4:37: weight must be from 0 to 65535, got 65536`,
			`t.hcl:5:37: weight must be from 0 to 65535, got -1`,
			`t.hcl:7:16: quorum 1 exceeds the total weight 0 of the real servers: the service could never be up`,
		},
	},
	{
		name: "quorum 0 refused",
		src: `virtual_server "10.0.0.1:80" {
  quorum = 0
  real_server "10.0.0.2" { weight = 0 }
}`,
		want: []string{`t.hcl:2:12: quorum must be from 1 to 2147483647, got 0`},
	},
	{
		name: "sched flags",
		src: `virtual_server "10.0.0.1:80" {
  lb_algo = "rr"
  mh_port = true
  sh_fallback = true
  ops = true
  real_server "10.0.0.2" {}
}`,
		want: []string{
			`t.hcl:3:3: mh_port needs lb_algo "mh" (lb_algo is "rr")`,
			`t.hcl:4:3: sh_fallback needs lb_algo "sh" (lb_algo is "rr")`,
			`t.hcl:5:3: ops (one-packet scheduling) needs protocol "UDP"`,
		},
	},
	{
		name: "granularity",
		src: `virtual_server "10.0.0.1:80" {
  persistence_timeout = 60
  persistence_granularity = "255.0.255.0"
  real_server "10.0.0.2" {}
}
virtual_server "10.0.0.1:81" {
  persistence_granularity = 24
  real_server "10.0.0.2" {}
}
virtual_server "[2001:db8::1]:80" {
  persistence_granularity = "255.255.0.0"
  real_server "[2001:db8::2]:80" {}
}
virtual_server "10.0.0.1:82" {
  persistence_granularity = 33
  real_server "10.0.0.2" {}
}`,
		want: []string{
			`t.hcl:3:29: persistence_granularity: "255.0.255.0" is not a contiguous netmask`,
			`t.hcl:11:29: persistence_granularity: want a prefix length from 1 to 128 for an IPv6 service, got "255.255.0.0"`,
			`t.hcl:15:29: persistence_granularity: prefix length must be from 1 to 32, got 33`,
		},
	},
	{
		name: "checks",
		src: `virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {
    http_get {
    }
    ssl_get {
      url {
        status_code = "299-200"
        digest = "abc"
      }
    }
    http_get {
      url {
        path = "/"
        status_code = [200, 600, "x"]
        digest = "9b3a0c85a887a256d6939da88aabd8cg"
      }
    }
    tcp_check {
      url { path = "/" }
      connect_port = 0
      bindto = "2001:db8::1"
    }
    misc_check {
      misc_timeout = 1.5
    }
    misc_check {
      misc_path = "/bin/x \"y"
    }
  }
}
virtual_server "fwmark:5" {
  real_server "10.0.0.2" {
    tcp_check {}
  }
}`,
		want: []string{
			`t.hcl:3:5: http_get needs at least one url { path = "/..." }`,
			`t.hcl:6:7: url: missing required attribute "path"`,
			`t.hcl:7:23: status_code range "299-200" is reversed`,
			`t.hcl:8:18: digest must be 32 hexadecimal digits (an MD5 sum), got "abc"`,
			`t.hcl:14:29: status_code must be from 100 to 599, got "600"`,
			`t.hcl:14:34: status_code must be a code such as 200 or a range such as "200-299", got "x"`,
			`t.hcl:15:18: digest must be 32 hexadecimal digits (an MD5 sum), got "9b3a0c85a887a256d6939da88aabd8cg"`,
			`t.hcl:19:7: unknown block "url" in tcp_check`,
			`t.hcl:20:22: connect_port must be from 1 to 65535, got 0`,
			`t.hcl:21:16: bindto 2001:db8::1 and the connect address 10.0.0.2 are of different families`,
			`t.hcl:23:5: misc_check: missing required attribute "misc_path"`,
			`t.hcl:24:22: misc_timeout must be whole seconds from 1 to 86400, got 1.5`,
			`t.hcl:27:19: misc_path: unterminated " quote at column 8 in "/bin/x \"y"`,
			`t.hcl:33:5: tcp_check needs connect_port: real server 10.0.0.2 has no port`,
		},
	},
	{
		name: "localnode",
		src: `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
localnode "a" {
  vrrp_instance = "VI_2"
  mode = "fwmark"
  vip = "10.0.0.1"
  peer_mac = "08:00:27:e1:3c"
  fwmark = 3
}
localnode "b" {
  vrrp_instance = "VI_1"
  mode = "bypass"
  vip = "10.0.0.2"
  peer_mac = "08:00:27:e1:3c:c5"
}
localnode "c" {
  vrrp_instance = "VI_1"
  mode = "backup_only"
}
localnode "b" {
  vrrp_instance = "VI_1"
  mode = "twobox"
}
localnode "d" {
  vrrp_instance = "VI_1"
  mode = "fwmark"
}`,
		want: []string{
			`t.hcl:7:19: vrrp_instance "VI_2" does not exist; did you mean "VI_1"?`,
			`t.hcl:10:14: peer_mac: bad MAC address "08:00:27:e1:3c"; want six hex bytes such as "08:00:27:e1:3c:c5"`,
			`t.hcl:11:12: no virtual_server "fwmark:3" to balance the packets this localnode marks`,
			`t.hcl:16:9: vip 10.0.0.2 is not a virtual_ipaddress of vrrp_instance "VI_1"`,
			`t.hcl:19:11: localnode "c": mode "backup_only" needs an lvs_sync_daemon block: the kernel honours net.ipv4.vs.backup_only only while the IPVS sync daemon is in backup state`,
			`t.hcl:25:10: unknown mode "twobox"; use "fwmark", "bypass" or "backup_only"`,
			`t.hcl:27:1: localnode "d": mode "fwmark" needs fwmark`,
			`t.hcl:27:1: localnode "d": mode "fwmark" needs peer_mac`,
			`t.hcl:27:1: localnode "d": mode "fwmark" needs vip`,
		},
	},
	{
		name: "sync",
		src: `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
lvs_sync_daemon {
  interface = "eth0"
  vrrp_instance = "VI_9"
  sync_id = 256
}
lvs_sync_daemon {
  interface = "eth0"
  vrrp_instance = "VI_1"
}`,
		want: []string{
			`t.hcl:8:19: vrrp_instance "VI_9" does not exist; did you mean "VI_1"?`,
			`t.hcl:9:13: sync_id must be from 0 to 255, got 256`,
			`t.hcl:11:1: duplicate lvs_sync_daemon block (first at t.hcl:6:1)`,
		},
	},
	{
		name: "syntax",
		src: `vrrp_instance "V" {
  interface = "eth0
}`,
		want: []string{
			`t.hcl:2:20: Invalid multi-line string: Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \n escape to represent a newline character or use the "heredoc" multi-line template syntax.`,
			`t.hcl:2:20: Unterminated template string: No closing marker was found for the string.`,
		},
	},
	{
		name: "expressions",
		src: `vrrp_instance "V" {
  interface = var.x
  virtual_router_id = 1 + 1
  priority = upper("x")
  virtual_ipaddress = ["10.0.0.1"]
  preempt = "maybe"
  notify = "/bin/x ${y}"
  notify_stop = <<EOT
/bin/stop
EOT
  track_interface = [("eth1"), "eth2"]
  garp_master_delay = -1
}`,
		want: []string{
			`t.hcl:2:15: interface must be a literal value (expressions, variables and ${...} templates are not supported)`,
			`t.hcl:3:23: virtual_router_id must be a literal value (expressions, variables and ${...} templates are not supported)`,
			`t.hcl:4:14: priority must be a literal value (expressions, variables and ${...} templates are not supported)`,
			`t.hcl:6:13: preempt must be true or false, got "maybe"`,
			`t.hcl:7:12: notify must be a literal value (expressions, variables and ${...} templates are not supported)`,
			`t.hcl:12:23: garp_master_delay must be whole seconds from 0 to 3600, got -1`,
		},
	},
	{
		name: "global",
		src: `global {
  router_id = ""
  control_socket = "/a/very/long/path/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"
  reconcile_interval = "10ms"
  keep_ipvs_on_stop = "yes"
}`,
		want: []string{
			`t.hcl:2:15: router_id must not be empty`,
			`t.hcl:3:20: control_socket is 122 bytes long; a unix socket path may have at most 107`,
			`t.hcl:4:24: reconcile_interval must be from 0.1 to 3600 seconds, got "10ms"`,
			`t.hcl:5:23: keep_ipvs_on_stop must be true or false, got "yes"`,
		},
	},
	{
		name: "backup_only follows another instance than the sync daemon",
		src: `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_instance "VI_2" {
  interface = "eth0"
  virtual_router_id = 6
  virtual_ipaddress = ["10.0.0.2"]
}
localnode "a" {
  vrrp_instance = "VI_1"
  mode = "backup_only"
}
lvs_sync_daemon {
  interface = "eth0"
  vrrp_instance = "VI_2"
}`,
		want: []string{
			`t.hcl:11:11: localnode "a" follows vrrp_instance "VI_1" but lvs_sync_daemon follows "VI_2": mode "backup_only" needs both to follow the same instance`,
		},
	},
	{
		name: "localnode duplicates",
		src: `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_instance "VI_2" {
  interface = "eth0"
  virtual_router_id = 6
  virtual_ipaddress = ["10.0.0.2"]
}
localnode "a" {
  vrrp_instance = "VI_1"
  mode = "backup_only"
}
localnode "a" {
  vrrp_instance = "VI_2"
  mode = "backup_only"
}
localnode "b" {
  vrrp_instance = "VI_1"
  mode = "bypass"
  vip = "10.0.0.1"
}`,
		want: []string{
			`t.hcl:11:11: localnode "a": mode "backup_only" needs an lvs_sync_daemon block: the kernel honours net.ipv4.vs.backup_only only while the IPVS sync daemon is in backup state`,
			`t.hcl:15:11: duplicate localnode "a" (first defined at t.hcl:11:11)`,
			`t.hcl:20:19: vrrp_instance "VI_1" already has localnode "a" (at t.hcl:11:11); one localnode per instance`,
		},
	},
	{
		name: "fwmark localnode with its service",
		src: `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
virtual_server "fwmark:3" {
  lb_kind = "DR"
  real_server "10.0.0.2" {}
}
localnode "a" {
  vrrp_instance = "VI_1"
  mode = "fwmark"
  vip = "10.0.0.1"
  peer_mac = "08:00:27:e1:3c:c5:00:01"
  fwmark = 3
}`,
		want: []string{
			`t.hcl:14:14: peer_mac: bad MAC address "08:00:27:e1:3c:c5:00:01"; want six hex bytes such as "08:00:27:e1:3c:c5"`,
		},
	},
	{
		name: "ip_family",
		src: `virtual_server "10.0.0.1:80" {
  ip_family = "inet6"
  real_server "10.0.0.2" {}
}
virtual_server "fwmark:1" {
  ip_family = "inet6"
  real_server "10.0.0.2" {}
}
virtual_server "fwmark:2" {
  ip_family = "ipx"
}`,
		want: []string{
			`t.hcl:2:3: ip_family is only for fwmark virtual servers (the address gives the family)`,
			`t.hcl:7:15: real server 10.0.0.2 is IPv4 but virtual_server "fwmark:1" is IPv6`,
			`t.hcl:10:15: unknown ip_family "ipx"; use "inet" or "inet6"`,
		},
	},
	{
		name: "thresholds and types",
		src: `virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {
    uthreshold = 10
    lthreshold = 20
    weight = [1]
    notify_up = true
  }
  real_server "10.0.0.3:abc" {}
  real_server "224.0.0.1" {}
  delay_loop = "soon"
  virtualhost = ["a"]
}
`,
		want: []string{
			`t.hcl:4:18: lthreshold 20 is above uthreshold 10`,
			`t.hcl:5:14: weight must be a number, got a list`,
			`t.hcl:6:17: notify_up must be a string, got true`,
			`t.hcl:8:15: real_server "10.0.0.3:abc": port must be from 1 to 65535, got "abc"`,
			`t.hcl:9:15: real_server "224.0.0.1": 224.0.0.1 cannot be a real server address`,
			`t.hcl:10:16: delay_loop must be a number of seconds or a duration such as "1500ms", got "soon"`,
			`t.hcl:11:17: virtualhost must be a string, got a list`,
		},
	},
}

// Snippets that load but produce warnings (Config.Warnings).
var warningCases = []diagCase{
	{
		name: "auth_pass truncation",
		src: `vrrp_instance "X" {
  interface = "eth0"
  virtual_router_id = 7
  virtual_ipaddress = ["10.0.0.3"]
  authentication {
    auth_type = "pass"
    auth_pass = "123456789"
  }
}`,
		want: []string{
			`t.hcl:7:17: warning: auth_pass is 9 bytes long; VRRPv2 carries 8, so only "12345678" is used (as keepalived does)`,
		},
	},
	{
		name: "owner priority with BACKUP",
		src: `vrrp_instance "X" {
  interface = "eth0"
  virtual_router_id = 7
  virtual_ipaddress = ["10.0.0.3"]
  state = "BACKUP"
  priority = 255
}`,
		want: []string{
			`t.hcl:5:11: warning: priority 255 makes "X" the address owner, which starts as MASTER (RFC 3768); state BACKUP is ignored`,
		},
	},
	{
		name: "nopreempt with MASTER",
		src: `vrrp_instance "Y" {
  interface = "eth0"
  virtual_router_id = 8
  virtual_ipaddress = ["10.0.0.4"]
  state = "master"
  preempt = false
  preempt_delay = 5
}`,
		want: []string{
			`t.hcl:6:13: warning: preempt = false has no effect with state MASTER; use state BACKUP on every router`,
			`t.hcl:7:19: warning: preempt_delay has no effect with state MASTER; use state BACKUP`,
		},
	},
	{
		name: "no vips",
		src: `vrrp_instance "Z" {
  interface = "eth0"
  virtual_router_id = 9
}`,
		want: []string{
			`t.hcl:1:15: warning: vrrp_instance "Z" has no virtual_ipaddress`,
		},
	},
	{
		name: "vs warnings",
		src: `virtual_server "10.0.0.1:80" {
  persistence_granularity = 24
}`,
		want: []string{
			`t.hcl:1:16: warning: virtual_server "10.0.0.1:80" has no real_server and no sorry_server`,
			`t.hcl:2:3: warning: persistence_granularity has no effect without persistence_timeout`,
		},
	},
	{
		name: "localnode unused",
		src: `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 5
  virtual_ipaddress = ["10.0.0.1"]
}
localnode "b" {
  vrrp_instance = "VI_1"
  mode = "bypass"
  vip = "10.0.0.1"
  fwmark = 4
}
`,
		want: []string{
			`t.hcl:10:3: warning: fwmark is only used in mode "fwmark"; it is ignored in mode "bypass"`,
		},
	},
	{
		name: "empty",
		src:  ``,
		want: []string{
			`t.hcl: warning: the configuration defines no vrrp_instance and no virtual_server`,
		},
	},
	{
		name: "service address not a VIP",
		src: `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
}
virtual_server "10.0.0.2:80" {
  real_server "10.0.0.3" {}
}
virtual_server "fwmark:9" {
  real_server "10.0.0.3" {}
}`,
		want: []string{
			`t.hcl:6:16: warning: virtual_server address 10.0.0.2 is not a virtual_ipaddress of any vrrp_instance`,
			`t.hcl:9:1: warning: virtual_server "fwmark:9": no localnode in this configuration marks packets with fwmark 9; the service only sees traffic if a firewall rule of your own sets that mark`,
		},
	},
}
