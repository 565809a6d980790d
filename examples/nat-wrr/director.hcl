# LVS-NAT with weighted round robin 3:1: tutorial 004 ("LVS-NAT in practice").
#   client    172.18.0.x
#   director  ens33 172.18.0.100/24 (the VIP is this address), ens37 192.168.59.100/24 (DIP)
#   rs1       ens33 192.168.59.131/24, default via 192.168.59.100 (the director)
#   rs2       ens33 192.168.59.132/24, default via 192.168.59.100 (the director)
# Run on the director:  lvsd run --config examples/nat-wrr/director.hcl
#
# No vrrp_instance: in the tutorial the VIP is the director's own, permanent address on ens33
# (netplan), so there is nothing to fail over. lvsd sets net.ipv4.ip_forward=1 itself: the
# replies come back through the director to be translated. For a director pair see
# examples/active-backup (in NAT both the VIP and the real servers' gateway 192.168.59.100
# must then be VRRP addresses).

global {
  router_id = "lvs"
}

# Tutorial 004: ipvsadm -A -t 172.18.0.100:80 -s wrr
virtual_server "172.18.0.100:80" {
  protocol   = "TCP"
  lb_algo    = "wrr"
  lb_kind    = "NAT"
  delay_loop = 6

  # Tutorial 004: ipvsadm -a -t 172.18.0.100:80 -r 192.168.59.131:80 -m
  #      then ipvsadm -e -t 172.18.0.100:80 -r 192.168.59.131:80 -m -w 3
  real_server "192.168.59.131:80" {
    weight = 3
    tcp_check {
      connect_timeout = 3
    }
  }

  # Tutorial 004: ipvsadm -a -t 172.18.0.100:80 -r 192.168.59.132:80 -m   (weight 1, the default)
  real_server "192.168.59.132:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}
