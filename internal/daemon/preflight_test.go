package daemon

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
)

func TestOwnAddressIsVIP(t *testing.T) {
	in := &config.VRRPInstance{Interface: "eth0", VIPs: []config.VIP{
		{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Dev: "eth0"},
		{Prefix: netip.MustParsePrefix("198.51.100.1/32"), Dev: "eth1"},
	}}
	if err := ownAddressIsVIP(in, netip.MustParseAddr("192.0.2.1")); err != nil {
		t.Errorf("own address not a VIP: %v", err)
	}
	if err := ownAddressIsVIP(in, netip.MustParseAddr("198.51.100.1")); err != nil {
		t.Errorf("a VIP on another device is not eth0's own address: %v", err)
	}
	err := ownAddressIsVIP(in, netip.MustParseAddr("192.0.2.10"))
	if err == nil || !strings.Contains(err.Error(), "VIP 192.0.2.10 is the own address of interface eth0") {
		t.Errorf("err = %v", err)
	}
}
