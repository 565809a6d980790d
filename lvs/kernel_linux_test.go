package lvs

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// The machine's own kernel has no IPVS (see docs/testing.md); inside the test VM it does.
// Either way CheckAvailable must agree with the generic netlink controller, and when the
// family is missing say so clearly instead of letting moby/ipvs do nothing.
func TestCheckAvailableMatchesKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("kernel-facing test: skipped when testing.Short() (-short)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (CheckAvailable may run modprobe)")
	}
	_, famErr := netlink.GenlFamilyGet("IPVS")
	err := CheckAvailable()
	if famErr == nil {
		if err != nil {
			t.Fatalf("IPVS family present but CheckAvailable: %v", err)
		}
		t.Log("this kernel has IPVS")
		return
	}
	if err == nil {
		t.Fatal("no IPVS family, yet CheckAvailable returned nil")
	}
	t.Logf("no IPVS here, as expected: %v", err)
	if !errors.Is(err, ErrNoIPVS) {
		t.Errorf("error does not wrap ErrNoIPVS: %v", err)
	}
	for _, want := range []string{"IPVS is not available in this kernel", "generic netlink family IPVS not found", "modprobe ip_vs", "CONFIG_IP_VS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := OpenIPVS(); !errors.Is(err, ErrNoIPVS) {
		t.Errorf("OpenIPVS without IPVS: %v", err)
	}
}
