# Converted from testdata/golden/families.conf by lvsd convert.

global {
  # keepalived vrrp_strict: written as accept_mode = false in every vrrp_instance
}

# keepalived: the first VIP sets the family; an IPv6 instance speaks VRRPv3.
vrrp_instance "V6" {
  interface         = "eth0"
  virtual_router_id = 61
  # keepalived treats VIPs of the other address family as excluded: 192.0.2.60
  virtual_ipaddress = ["2001:db8::10/64"]
  # keepalived's vrrp_strict: no accept mode, traffic to the VIPs is dropped while MASTER (remove this line if you did not mean that)
  accept_mode                = false
  virtual_ipaddress_excluded = ["192.0.2.60"]
  # keepalived runs IPv6 instances as VRRPv3
  vrrp_version = 3
}

vrrp_instance "V4" {
  interface         = "eth0"
  virtual_router_id = 62
  # keepalived's vrrp_strict: no accept mode, traffic to the VIPs is dropped while MASTER (remove this line if you did not mean that)
  accept_mode       = false
  virtual_ipaddress = ["192.0.2.61"]
}
