# LVS-DR across segments: tutorial 004 ("LVS-DR across network segments"). The VIP's network (10.0.0.0/24)
# is not the one the director and real servers are numbered in (192.168.59.0/24); the router
# reaches the VIP over the same wire (it has 10.0.0.200/24 on ens224 next to 192.168.59.200).
#   router    ens160 172.18.0.100 (clients' gateway)  ens224 192.168.59.200, 10.0.0.200/24
#   director  ens37  192.168.59.130, default via 192.168.59.200; VIP 10.0.0.100 on lo:1
#   rs1       ens33  192.168.59.131, default via 192.168.59.200; VIP on lo (lvsd realserver setup)
#   rs2       ens33  192.168.59.132, default via 192.168.59.200; VIP on lo (lvsd realserver setup)
# Run on the director:  lvsd run --config examples/dr-across-segments/director.hcl

global {
  router_id = "lvs"
}

# Tutorial 004: ifconfig lo:1 10.0.0.100 netmask 255.255.255.255
# The VIP sits on lo, as in the tutorial; VRRP itself talks on ens37. The director answers the
# router's ARP for 10.0.0.100 on ens37 because its arp_ignore stays 0 (the default).
vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "ens37"
  virtual_router_id = 100
  priority          = 100
  advert_int        = 1
  virtual_ipaddress = ["10.0.0.100/32 dev lo label lo:1"]
}

# Tutorial 004: ipvsadm -A -t 10.0.0.100:80 -s wrr
virtual_server "10.0.0.100:80" {
  protocol   = "TCP"
  lb_algo    = "wrr"
  lb_kind    = "DR"
  delay_loop = 6

  # Tutorial 004: ipvsadm -a -t 10.0.0.100:80 -r 192.168.59.131:80 -g -w 1
  real_server "192.168.59.131:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }

  # Tutorial 004: ipvsadm -a -t 10.0.0.100:80 -r 192.168.59.132:80 -g -w 1
  real_server "192.168.59.132:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}
