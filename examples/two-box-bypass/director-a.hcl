# Two-box LVS, fix 2 (tutorial 001, "option 2: set Netfilter rules"): two machines, each both
# director and real server (nginx on :80), VIP 172.16.0.30 on whichever is MASTER.
#   director-a  enp0s3 172.16.0.31, MASTER, priority 100
#   director-b  enp0s3 172.16.0.32, BACKUP, priority 50
# While a box is BACKUP or FAULT, a nat PREROUTING REDIRECT rule hands VIP traffic straight
# to its own nginx, so IPVS on that box never sees it and nothing loops. lvsd installs and
# removes that rule itself on every state change: no bypass_ipvs.sh, no notify_* lines, and
# no VIP on lo (REDIRECT delivers to the box's own address).
# This file is director-a (box A, MASTER). Run:  lvsd run --config examples/two-box-bypass/director-a.hcl

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
  virtual_ipaddress = ["172.16.0.30/24"]
  # Replaced by the localnode block below:
  #   notify_master "/etc/keepalived/bypass_ipvs.sh del 172.16.0.30"
  #   notify_backup "/etc/keepalived/bypass_ipvs.sh add 172.16.0.30"
  #   notify_fault  "/etc/keepalived/bypass_ipvs.sh add 172.16.0.30"
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

# BACKUP/FAULT: iptables -t nat -A PREROUTING -d 172.16.0.30 -p tcp --dport 80 -j REDIRECT
# MASTER: the rule is removed. lvsd tags the rule with an iptables comment and removes it on
# stop.
localnode "web" {
  vrrp_instance = "VI_1"
  mode          = "bypass"
  vip           = "172.16.0.30"
  port          = 80
  protocol      = "TCP"
}

# Tutorial: virtual_server 172.16.0.30 80 { delay_loop 30  lb_algo rr  lb_kind DR
#         persistence_timeout 0  protocol TCP ... }
virtual_server "172.16.0.30:80" {
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
