# LVS-TUN (IP-in-IP): tutorial 004 ("LVS-TUN, tunnel mode"). The director wraps each request in a
# new IP header addressed to the real server's RIP; the real server unwraps it on tunl0,
# where it holds the VIP, and answers the client directly. The real servers could be in
# any routed network; the tutorial keeps them in the director's segment:
#   router    ens224 192.168.59.200 (everyone's default gateway)
#   director  ens37 192.168.59.130; VIP 192.168.59.100 (tutorial: on tunl0; here on ens37:0)
#   rs1       ens33 192.168.59.131; VIP on tunl0 (lvsd realserver setup --mode tun)
#   rs2       ens33 192.168.59.132; VIP on tunl0 (lvsd realserver setup --mode tun)
# Run on the director:  lvsd run --config examples/tun/director.hcl

global {
  router_id = "lvs"
}

# Tutorial 004 (on the director too): ip addr add 192.168.59.100/32 dev tunl0; ip link set up tunl0
# The director does not need tunl0: IPVS encapsulates on its own. The VIP only has to be a
# local address that answers ARP, so lvsd puts it on the segment's NIC and announces it.
vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "ens37"
  virtual_router_id = 100
  priority          = 100
  advert_int        = 1
  virtual_ipaddress = ["192.168.59.100/32 dev ens37 label ens37:0"]
}

# The tutorial reuses its DR table and switches the method: -A ... -s wrr, -a ... -i
virtual_server "192.168.59.100:80" {
  protocol   = "TCP"
  lb_algo    = "wrr"
  lb_kind    = "TUN"
  delay_loop = 6

  # ipvsadm -a -t 192.168.59.100:80 -r 192.168.59.131:80 -i -w 1
  # (TUN, like DR, cannot change the port: the real server's port is the virtual server's)
  real_server "192.168.59.131:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }

  # ipvsadm -a -t 192.168.59.100:80 -r 192.168.59.132:80 -i -w 1
  real_server "192.168.59.132:80" {
    weight = 1
    tcp_check {
      connect_timeout = 3
    }
  }
}
