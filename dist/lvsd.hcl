# Example lvsd configuration, installed as /etc/lvsd/lvsd.hcl. lvsd reads every *.hcl file
# of /etc/lvsd (merged). Edit the addresses and interface for your network, check with
#   lvsd validate --config /etc/lvsd
# and start with `systemctl enable --now lvsd`. Every keyword: docs/config.md; from an
# existing keepalived.conf: lvsd convert. Addresses below are documentation addresses
# (192.0.2.0/24, 198.51.100.0/24): replace them.

global {
  router_id = "director-a"        # this director's name in logs and status
  # metrics_listen = "127.0.0.1:9650"   # Prometheus metrics (off by default)
}

# One virtual router: the MASTER holds the VIP; the other director (same block with
# state BACKUP and a lower priority) takes it over within about 3 s if this one fails.
vrrp_instance "VI_1" {
  state             = "BACKUP"    # start as BACKUP on both: the higher priority wins
  interface         = "eth0"
  virtual_router_id = 51          # the same on both directors, unique on the segment
  priority          = 100         # e.g. 90 on the other director
  advert_int        = 1
  virtual_ipaddress = ["192.0.2.10/32"]
  # notify = "/etc/lvsd/notify.sh"   # called as: notify.sh INSTANCE VI_1 MASTER|BACKUP|FAULT PRIORITY
}

# Load balance TCP port 80 of the VIP over two real servers, direct routing. On each real
# server run: lvsd realserver setup --vip 192.0.2.10
virtual_server "192.0.2.10:80" {
  protocol   = "TCP"
  lb_algo    = "wlc"
  lb_kind    = "DR"
  delay_loop = 5

  real_server "198.51.100.21:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }

  real_server "198.51.100.22:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}
