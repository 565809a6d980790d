global {
  router_id         = "director-a"            # default: hostname
  control_socket    = "/run/lvsd/lvsd.sock"
  keep_ipvs_on_stop = false
}

vrrp_instance "VI_1" {
  state             = "MASTER"           # initial: MASTER | BACKUP (default BACKUP)
  interface         = "eth0"             # required
  virtual_router_id = 51                 # required, 1-255, unique per interface
  priority          = 100                # 1-255, default 100; 255 = address owner
  advert_int        = 1                  # VRRPv2: whole seconds 1-255, default 1
  preempt           = true               # default true (false = keepalived's nopreempt)
  preempt_delay     = 0                  # seconds, 0-1000
  authentication {
    auth_type = "PASS"                   # PASS (or omit the block: none)
    auth_pass = "1111"                   # VRRPv2 carries 8 bytes
  }
  virtual_ipaddress = ["172.16.0.30/24", "10.0.0.5/32 dev eth1 label eth1:0"]  # default /32
  unicast_src_ip    = "172.16.0.31"      # optional; with unicast_peer: unicast instead of 224.0.0.18
  unicast_peer      = ["172.16.0.32"]
  track_interface   = ["eth1"]           # down => FAULT
  garp_master_delay  = 5                 # second GARP burst after becoming MASTER
  garp_master_repeat = 5                 # GARPs per VIP per burst
  notify_master = "/etc/lvsd/bypass_ipvs.sh del 172.16.0.30"
  notify_backup = "/etc/lvsd/bypass_ipvs.sh add 172.16.0.30"
  notify_fault  = "/etc/lvsd/bypass_ipvs.sh add 172.16.0.30"
  notify_stop   = "/path/script"
  notify        = "/path/script"         # called as: script INSTANCE NAME STATE PRIORITY
}

virtual_server "172.16.0.30:80" {        # or "fwmark:3", or "[2001:db8::1]:80"
  protocol            = "TCP"            # TCP | UDP | SCTP
  lb_algo             = "rr"             # rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf (default wlc)
  lb_kind             = "DR"             # NAT | DR | TUN (default NAT)
  persistence_timeout = 0                # seconds, 0 = off
  persistence_granularity = "255.255.255.255"
  delay_loop          = 30               # default check interval for this service
  sorry_server        = "10.0.0.9:80"    # used when no real server is up
  quorum              = 1
  hysteresis          = 0
  alpha               = false            # real servers start DOWN until a check passes
  inhibit_on_failure  = false            # default for its real servers

  real_server "172.16.0.31:80" {         # port may be omitted: the virtual server's port
    weight             = 1
    inhibit_on_failure = false           # true: weight 0 instead of removal when down
    notify_up          = "/path/script"
    notify_down        = "/path/script"
    tcp_check {
      connect_timeout    = 3
      connect_port       = 80
      retry              = 1
      delay_before_retry = 1
    }
    # http_get { url { path = "/health" status_code = 200 } connect_timeout = 3 }
    # ssl_get  { url { path = "/" digest = "<md5 hex>" } }
    # misc_check { misc_path = "/usr/local/bin/check.sh arg" misc_timeout = 5 misc_dynamic = false }
  }
}

localnode "web" {                        # two-box mode for one VRRP instance
  vrrp_instance = "VI_1"
  mode          = "fwmark"               # fwmark | bypass | backup_only
  vip           = "172.16.0.30"
  port          = 80
  protocol      = "TCP"
  peer_mac      = "08:00:27:e1:3c:c5"    # fwmark mode: traffic from the peer director is not marked
  fwmark        = 3                      # fwmark mode: pairs with virtual_server "fwmark:3"
}

lvs_sync_daemon {                        # IPVS connection sync, role follows the VRRP instance
  interface     = "eth0"
  vrrp_instance = "VI_1"
  sync_id       = 51
}
