# The README's quick start: one director in front of two web servers, LVS-DR, on one
# network. Addresses are from 192.0.2.0/24, reserved for documentation (RFC 5737): replace
# them, and eth0, with yours.
#
#   director     eth0 192.0.2.10, VIP 192.0.2.30 (while MASTER)
#   web1, web2   192.0.2.31, 192.0.2.32: lvsd realserver setup --vip 192.0.2.30
vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  authentication {
    auth_type = "PASS"
    auth_pass = "1111"
  }
  virtual_ipaddress = ["192.0.2.30/32 dev eth0 label eth0:0"]
}

virtual_server "192.0.2.30:80" {
  lb_algo    = "rr"
  lb_kind    = "DR"
  delay_loop = 10
  real_server "192.0.2.31:80" {
    tcp_check { connect_timeout = 3 }
  }
  real_server "192.0.2.32:80" {
    tcp_check { connect_timeout = 3 }
  }
}
