# Two-box LVS, fix 1 (tutorial 001, "option 1: mark the packets"): two machines, each both director
# and real server (nginx on :80), VIP 172.16.0.30 on whichever is MASTER.
#   director-a  enp0s3 172.16.0.31, MAC 08:00:27:77:84:ef, MASTER, priority 100, mark 3
#   director-b  enp0s3 172.16.0.32, MAC 08:00:27:e1:3c:c5, BACKUP, priority 50,  mark 4
# Packets from clients get marked and go through IPVS; packets the peer director forwarded
# to us (source MAC = the peer's) stay unmarked, skip IPVS and reach the local nginx, so
# nothing loops. Both boxes also need the VIP on lo (lvsd realserver setup).
# This file is director-a (box A, MASTER). Run:  lvsd run --config examples/two-box-fwmark/director-a.hcl

global {
  router_id = "director-a"             # tutorial: router_id LVS_DEVEL (on both)
}

vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "enp0s3"
  virtual_router_id = 51
  priority          = 100
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = "1111"
  }
  virtual_ipaddress = ["172.16.0.30"]     # /32 on enp0s3
  track_script      = ["chk_nginx"]
}

# This box is a real server too: while its own web server does not answer, it should not
# be the director (keepalived's vrrp_script). Failing twice in a row lowers the priority by
# 60 (director-a 100 -> 40, below director-b's 50: the VIP moves); two successes restore it.
# The same check on both boxes keeps their order when both fail. No shell: argv as written.
vrrp_script "chk_nginx" {
  script   = "/usr/bin/curl -fsS -o /dev/null --max-time 1 http://127.0.0.1/"
  interval = 2
  fall     = 2
  rise     = 2
  weight   = -60
}

# Tutorial: iptables -t mangle -I PREROUTING -d 172.16.0.30 -p tcp -m tcp --dport 80 \
#         -m mac ! --mac-source 08:00:27:E1:3C:C5 -j MARK --set-mark 0x3
# lvsd installs this rule itself (tagged with an iptables comment, removed on stop).
localnode "web" {
  vrrp_instance = "VI_1"
  mode          = "fwmark"
  vip           = "172.16.0.30"
  port          = 80
  protocol      = "TCP"
  peer_mac      = "08:00:27:e1:3c:c5"     # director B's enp0s3
  fwmark        = 3
}

# Tutorial: virtual_server fwmark 3 { delay_loop 30  lb_algo rr  lb_kind DR
#         persistence_timeout 0  protocol TCP ... }
virtual_server "fwmark:3" {
  protocol            = "TCP"
  lb_algo             = "rr"
  lb_kind             = "DR"
  persistence_timeout = 0
  delay_loop          = 30

  # Tutorial: real_server 172.16.0.31 80 { TCP_CHECK { connect_timeout 3 } }
  real_server "172.16.0.31:80" {
    tcp_check {
      connect_timeout = 3
    }
  }

  # Tutorial: real_server 172.16.0.32 80 { TCP_CHECK { connect_timeout 3 } }
  real_server "172.16.0.32:80" {
    tcp_check {
      connect_timeout = 3
    }
  }
}
