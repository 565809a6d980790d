global {
  router_id          = "director-a"
  control_socket     = "/run/lvsd/a.sock"
  keep_ipvs_on_stop  = true
  reconcile_interval = "2s"
}

vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_int        = 1
  preempt           = true
  preempt_delay     = 0
  authentication {
    auth_type = "PASS"
    auth_pass = 1111
  }
  virtual_ipaddress  = ["172.16.0.30/24", "10.0.0.5/32 dev eth1 label eth1:0"]
  virtual_ipaddress_excluded = ["2001:db8::1/64"]
  unicast_src_ip     = "172.16.0.31"
  unicast_peer       = ["172.16.0.32"]
  track_interface    = ["eth1"]
  garp_master_delay  = 10
  garp_master_repeat = 3
  notify_master      = "/etc/lvsd/bypass_ipvs.sh del 172.16.0.30"
  notify_backup      = "/etc/lvsd/bypass_ipvs.sh add 172.16.0.30"
  notify_fault       = "/etc/lvsd/bypass_ipvs.sh add 172.16.0.30"
  notify_stop        = "/path/script"
  notify             = "/path/script"
}
virtual_server "172.16.0.30:80" {
  protocol                = "TCP"
  lb_algo                 = "rr"
  lb_kind                 = "DR"
  persistence_timeout     = 300
  persistence_granularity = "255.255.255.0"
  delay_loop              = 30
  sorry_server            = "10.0.0.9"
  quorum                  = 2
  hysteresis              = 1
  alpha                   = true
  inhibit_on_failure      = true

  real_server "172.16.0.31:80" {
    weight      = 2
    notify_up   = "/path/up 'a b'"
    notify_down = "/path/down"
    uthreshold  = 1000
    lthreshold  = 10
    tcp_check {
      connect_timeout    = 3
      connect_port       = 8080
      retry              = 2
      delay_before_retry = 1.5
    }
  }
  real_server "172.16.0.32" {
    inhibit_on_failure = false
    http_get {
      url {
        path        = "/health"
        status_code = [200, "300-304"]
        digest      = "9B3A0C85A887A256D6939DA88AABD8CD"
      }
      connect_timeout = "250ms"
    }
    misc_check {
      misc_path    = "/usr/local/bin/check.sh arg"
      misc_timeout = 5
      misc_dynamic = true
    }
  }
}

virtual_server "fwmark:3" {
  lb_algo = "sh"
  sh_port = true
  lb_kind = "DR"
  real_server "172.16.0.31" {
    ssl_get {
      url { path = "/" }
      connect_port = 443
      enable_sni   = true
      virtualhost  = "www.example.com"
    }
  }
}

virtual_server "[2001:db8::1]:53" {
  protocol = "UDP"
  ops      = true
  lb_algo  = "mh"
  mh_fallback = true
  persistence_timeout = 60
  persistence_granularity = 64
  quorum   = 3
  real_server "[2001:db8::10]:5353" {
    weight = 3
  }
}

localnode "web" {
  vrrp_instance = "VI_1"
  mode          = "fwmark"
  vip           = "172.16.0.30"
  port          = 80
  protocol      = "TCP"
  peer_mac      = "08:00:27:E1:3C:C5"
  fwmark        = 3
}

lvs_sync_daemon {
  interface     = "eth0"
  vrrp_instance = "VI_1"
}
