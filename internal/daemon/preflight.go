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
