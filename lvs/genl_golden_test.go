//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

// The golden bytes below are in little-endian host order, as netlink carries them on these
// architectures.

package lvs

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// A service request, byte by byte, as include/uapi/linux/ip_vs.h lays it out.
func TestAppendOpGolden(t *testing.T) {
	var m msg
	s := Service{Key: AddrKey(TCP, netip.MustParseAddr("10.0.0.1"), 80), Scheduler: "rr", Persistence: 300, NetmaskBits: 24}
	if err := m.appendOp(0x23, 7, &Op{Kind: AddService, Service: &s}); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"5c000000", "2300", "0500", "07000000", "00000000", // nlmsghdr: len 92, family, REQUEST|ACK, seq, pid
		"01010000",             // genl: IPVS_CMD_NEW_SERVICE, version 1
		"48000100",             // IPVS_CMD_ATTR_SERVICE, 72 bytes
		"06000100", "02000000", // AF_INET
		"06000200", "06000000", // IPPROTO_TCP
		"08000300", "0a000001", // 10.0.0.1
		"06000400", "00500000", // port 80, network order
		"07000600", "72720000", // "rr\0"
		"0c000700", "01000000", "ffffffff", // flags PERSISTENT, mask all
		"08000800", "2c010000", // timeout 300
		"08000900", "ffffff00", // netmask 255.255.255.0 in network order
	}, "")
	if got := hex.EncodeToString(m.b); got != want {
		t.Errorf("AddService bytes\n got %s\nwant %s", got, want)
	}
}
