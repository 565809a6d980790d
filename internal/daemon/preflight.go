package daemon

import (
	"fmt"
	"net/netip"

	"github.com/lvsd/lvsd/internal/config"
)

// ownAddressIsVIP refuses an instance one of whose VIPs is the interface's own address
// (the primary IPv4 address lvsd sends adverts from). The config alone cannot know that
// address; releasing the VIP would delete it and cut the machine off that network.
func ownAddressIsVIP(in *config.VRRPInstance, own netip.Addr) error {
	for _, v := range in.VIPs {
		if v.Prefix.Addr() == own && (v.Dev == "" || v.Dev == in.Interface) {
			return fmt.Errorf("VIP %s is the own address of interface %s: it would be deleted when the VIP is released; "+
				"give the interface an address of its own and use another address as the VIP", own, in.Interface)
		}
	}
	return nil
}

// ownAddressDiags checks every instance of a configuration about to be applied (a reload
// may add a VIP to a running instance in place, without preparing it again).
func ownAddressDiags(cfg *config.Config) config.Diagnostics {
	var diags config.Diagnostics
	for i := range cfg.VRRPInstances {
		in := &cfg.VRRPInstances[i]
		own, err := sourceAddr(in)
		if err != nil {
			continue // a missing interface or address is reported by the link checks
		}
		if err := ownAddressIsVIP(in, own); err != nil {
			diags = append(diags, diagAt(in.Pos, fmt.Errorf("vrrp_instance %q: %w", in.Name, err)))
		}
	}
	return diags
}
