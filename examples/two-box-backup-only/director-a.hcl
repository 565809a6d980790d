# Two-box LVS, fix 3 (tutorial 001, "option 3: the sysctl flag backup_only", kernel 3.9+): two
# machines, each both director and real server (nginx on :80), VIP 172.16.0.30 on whichever
# is MASTER.
#   director-a  enp0s3 172.16.0.31, MASTER, priority 100
#   director-b  enp0s3 172.16.0.32, BACKUP, priority 50
# With net.ipv4.vs.backup_only=1 the kernel switches the director function off while the
# IPVS sync daemon runs in backup state, so the BACKUP hands what the MASTER forwards to its
# own nginx (through the VIP on lo, lvsd realserver setup) instead of balancing it again. The tutorial
# wondered "what to do with the flag when master and backup switch": lvsd moves both with VI_1 (flag 1 and sync daemon
# backup while not MASTER; flag 0 and sync daemon master on MASTER), so they follow every
# failover.
# This file is director-a (box A, MASTER). Run:  lvsd run --config examples/two-box-backup-only/director-a.hcl

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

# sysctl -w net.ipv4.vs.backup_only=1 while VI_1 is BACKUP or FAULT (0 while MASTER, the
# original value restored on stop); the kernel honours it while the sync daemon is backup.
localnode "web" {
  vrrp_instance = "VI_1"
  mode          = "backup_only"
}

# backup_only acts only while the kernel's sync daemon is in backup state: this block is
# what puts it there (and makes the new MASTER know the old one's connections).
lvs_sync_daemon {
  interface     = "enp0s3"
  vrrp_instance = "VI_1"
  sync_id       = 51
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
