# Classic director pair (tutorial 004, "LVS + keepalived"), on tutorial 003's LVS-DR lab:
#   director-a  eth0 10.10.10.215, MASTER, priority 100
#   director-b  eth0 10.10.10.214, BACKUP, priority 90
#   VIP         10.10.10.213 on eth0:0 of whichever director is MASTER
#   rs1, rs2    eth0 10.10.10.216 / .217, VIP on lo (lvsd realserver setup); gateway 10.10.10.254
# Both directors carry the same virtual_server; only the MASTER holds the VIP, so only it
# receives traffic. If it dies, the BACKUP takes the VIP within about 3 s (3 x advert_int
# plus skew) and, thanks to lvs_sync_daemon, already knows the established connections.
# This file is director-a's. Run:  lvsd run --config examples/active-backup/director-a.hcl

global {
  router_id = "director-a"
}

vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = "lvs-2016"
  }
  # Tutorial 003: ifcfg-eth0:0 IPADDR=10.10.10.213 NETMASK=255.255.255.255, now on the MASTER only
  virtual_ipaddress = ["10.10.10.213/32 dev eth0 label eth0:0"]
  # Optional hooks, called after lvsd has done its own work for the new state:
  # notify = "/etc/lvsd/notify.sh"   # run as: notify.sh INSTANCE VI_1 MASTER|BACKUP|FAULT PRIORITY
}

# Tutorial 003: ipvsadm -A -t 10.10.10.213:80 -s rr
virtual_server "10.10.10.213:80" {
  protocol   = "TCP"
  lb_algo    = "rr"
  lb_kind    = "DR"
  delay_loop = 6

  # Tutorial 003: ipvsadm -a -t 10.10.10.213:80 -r 10.10.10.216:80 -g -w 1
  real_server "10.10.10.216:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }

  # Tutorial 003: ipvsadm -a -t 10.10.10.213:80 -r 10.10.10.217:80 -g -w 1
  real_server "10.10.10.217:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}

# IPVS connection synchronisation, role following VI_1: the MASTER sends its connection
# table (ipvsadm --start-daemon master --syncid 51 --mcast-interface eth0), the BACKUP
# receives it (--start-daemon backup), and they swap on failover.
lvs_sync_daemon {
  interface     = "eth0"
  vrrp_instance = "VI_1"
  sync_id       = 51
}
