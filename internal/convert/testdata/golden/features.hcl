# Converted from testdata/golden/features.conf by lvsd convert.

# Configuration File for keepalived: two directors sharing one file.
# The config id (keepalived -i, lvsd convert --config-id) picks the lines of each.
global {
  # keepalived notification_email { ... } dropped: lvsd sends no mail; use notify scripts
  # keepalived smtp_server 127.0.0.1 dropped: lvsd sends no mail; use notify scripts
  router_id              = "director-a"
  script_user            = "keepalived_script"
  enable_script_security = true
}

# Is haproxy alive?
vrrp_script "chk_haproxy" {
  script   = "/usr/bin/killall -0 haproxy"
  interval = 2
  weight   = -20
  fall     = 2
  rise     = 2
}

vrrp_track_file "prio_file" {
  file   = "/run/keepalived/prio"
  weight = 1
}

# From an included file.
vrrp_instance "VI_DB" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 90
  virtual_ipaddress = ["192.168.200.20"]
  # from global_defs vrrp_garp_master_repeat
  garp_master_repeat = 3
}

vrrp_sync_group "G1" {
  group         = ["VI_WEB", "VI_DB"]
  notify_master = "/etc/keepalived/notify.sh master"
}

# The web VIP.
vrrp_instance "VI_WEB" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    # keepalived and lvsd use only the first 8 characters: "secret-l"
    auth_pass = "secret-longer-than-8"
  }
  virtual_ipaddress = ["192.168.200.10/24 dev eth0 label eth0:1", "192.168.200.11"]
  track_script      = ["chk_haproxy"]
  track_file        = ["prio_file weight 2"]
  track_interface   = ["eth1 weight -10"]
  notify_backup     = "/etc/keepalived/notify.sh backup"
  # keepalived smtp_alert dropped: lvsd sends no mail; use notify scripts
  # keepalived ignores nopreempt with state MASTER: preemption stays on
  # from global_defs vrrp_garp_master_repeat
  garp_master_repeat = 3
}

# from virtual_server group WEB (1 of 2)
virtual_server "192.168.200.10:80" {
  delay_loop = 6
  lb_algo    = "wrr"
  lb_kind    = "DR"
  protocol   = "TCP"
  real_server "192.168.201.1:80" {
    weight = 1
    http_get {
      url {
        path        = "/health"
        status_code = 200
      }
      connect_timeout    = 3
      retry              = 2
      delay_before_retry = 1
    }
  }
  real_server "192.168.201.2:80" {
    weight = 2
    http_get {
      url {
        path        = "/health"
        status_code = 200
      }
      connect_timeout    = 3
      retry              = 2
      delay_before_retry = 1
    }
  }
}

# from virtual_server group WEB (2 of 2)
virtual_server "192.168.200.11:80" {
  delay_loop = 6
  lb_algo    = "wrr"
  lb_kind    = "DR"
  protocol   = "TCP"
  real_server "192.168.201.1:80" {
    weight = 1
    http_get {
      url {
        path        = "/health"
        status_code = 200
      }
      connect_timeout    = 3
      retry              = 2
      delay_before_retry = 1
    }
  }
  real_server "192.168.201.2:80" {
    weight = 2
    http_get {
      url {
        path        = "/health"
        status_code = 200
      }
      connect_timeout    = 3
      retry              = 2
      delay_before_retry = 1
    }
  }
}

virtual_server "fwmark:3" {
  lb_algo = "rr"
  lb_kind = "DR"
  real_server "192.168.201.1:80" {
    tcp_check {
      connect_port    = 80
      connect_timeout = 2
    }
    misc_check {
      misc_path    = "/usr/local/bin/check.sh 'two words' 192.168.201.1"
      misc_timeout = 5
    }
  }
}

lvs_sync_daemon {
  interface     = "eth0"
  vrrp_instance = "VI_WEB"
  sync_id       = 51
}
