# LVS-DR on one segment: tutorials 000 (wlc, -w 2 / -w 1), 002 and 003 (rr, equal weights).
# One director, two real servers, all in 192.168.0.0/24 (tutorial 000's lab):
#   director  enp0s3 192.168.0.178, VIP 192.168.0.101 on enp0s3:0 (/32)
#   rs1       enp0s3 192.168.0.179, VIP on lo (lvsd realserver setup)
#   rs2       enp0s3 192.168.0.180, VIP on lo (lvsd realserver setup)
# Run on the director:  lvsd run --config examples/dr-one-segment/director.hcl

global {
  router_id = "director"
}

# lvsd owns addresses through a VRRP instance. A lone instance becomes MASTER and keeps the
# VIP; add a second director with the same block (state BACKUP, lower priority) and you
# have examples/active-backup.
# Tutorial 000: ifconfig enp0s3:0 192.168.0.101 broadcast 192.168.0.101 netmask 255.255.255.255 up
vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "enp0s3"
  virtual_router_id = 101
  priority          = 100
  advert_int        = 1
  virtual_ipaddress = ["192.168.0.101/32 dev enp0s3 label enp0s3:0"]
}

# Tutorial 000: ipvsadm -A -t 192.168.0.101:80 -s wlc
# (tutorials 002/003: -s rr with equal weights; change lb_algo and the weights below)
virtual_server "192.168.0.101:80" {
  protocol   = "TCP"
  lb_algo    = "wlc"
  lb_kind    = "DR"
  delay_loop = 6

  # Tutorial 000: ipvsadm -a -t 192.168.0.101:80 -r 192.168.0.179 -g -w 2
  real_server "192.168.0.179:80" {
    weight = 2
    tcp_check {
      connect_timeout = 3
    }
  }

  # Tutorial 000: ipvsadm -a -t 192.168.0.101:80 -r 192.168.0.180 -g -w 1
  real_server "192.168.0.180:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}
