# Converted from testdata/golden/example.conf by lvsd convert.

# Configuration File for keepalived
global {
  # keepalived notification_email { ... } dropped: lvsd sends no mail; use notify scripts
  # keepalived smtp_server 127.0.0.1 dropped: lvsd sends no mail; use notify scripts
  router_id = "LVS_A"
  # keepalived vrrp_skip_check_adv_addr dropped: lvsd does not compare an advert's address list with its own
}

vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    # keepalived and lvsd use only the first 8 characters: "k33pal1v"
    auth_pass = "k33pal1ved"
  }
  virtual_ipaddress = ["192.0.2.10/24 dev eth0 label eth0:1"]
}

# The web service, balanced by direct routing.
virtual_server "192.0.2.10:80" {
  delay_loop          = 6
  lb_algo             = "wrr"
  lb_kind             = "DR"
  persistence_timeout = 50
  protocol            = "TCP"
  real_server "192.0.2.21:80" {
    weight = 3
    http_get {
      url {
        path        = "/health"
        status_code = 200
      }
      connect_timeout    = 3
      retry              = 3
      delay_before_retry = 3
    }
  }
  real_server "192.0.2.22:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}
