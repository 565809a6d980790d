package vrrp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// readHex reads a testdata file of hex bytes; lines starting with # are comments.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sb.WriteString(strings.ReplaceAll(line, " ", ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var keepalivedAdvert = Advert{
	VRID: 51, Priority: 150, AuthType: AuthPass, AdvertInt: 1, Checksum: 0x5634,
	Addrs:    []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")},
	AuthData: AuthPassData("secret12"),
}

func TestParseKeepalivedCapture(t *testing.T) {
	b := readHex(t, "keepalived-2.2.7-vrid51.hex")
	got, err := Parse(b, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !equalAdvert(got, keepalivedAdvert) {
		t.Fatalf("Parse = %+v, want %+v", got, keepalivedAdvert)
	}
}

func TestMarshalMatchesKeepalived(t *testing.T) {
	want := readHex(t, "keepalived-2.2.7-vrid51.hex")
	a := keepalivedAdvert
	a.Checksum = 0 // ignored by Marshal: recomputed
	got, err := a.Marshal(netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal =\n% x\nwant\n% x", got, want)
	}
}

func TestMarshalGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		adv  Advert
		want string
	}{
		{
			// No auth, priority 0 (resign), one VIP, advert_int 3.
			name: "resign", adv: Advert{VRID: 1, Priority: 0, AdvertInt: 3,
				Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
			want: "21 01 00 01 00 03 d4 f9 0a 00 00 01 00 00 00 00 00 00 00 00",
		},
		{
			// Owner without addresses (keepalived allows an instance without VIPs).
			name: "no addresses", adv: Advert{VRID: 255, Priority: 255, AdvertInt: 1},
			want: "21 ff ff 00 00 01 de fe 00 00 00 00 00 00 00 00",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.adv.Marshal(netip.Addr{}, netip.Addr{})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal = % x, want % x", got, want)
			}
			if Checksum(got) != 0 {
				t.Fatal("checksum over encoded message is not 0")
			}
			back, err := Parse(got, netip.Addr{}, netip.Addr{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.adv.Checksum = back.Checksum
			if !equalAdvert(back, tc.adv) {
				t.Fatalf("round trip = %+v, want %+v", back, tc.adv)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	a := Advert{VRID: 1, Priority: 100, AdvertInt: 1, Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::1")}}
	if _, err := a.Marshal(netip.Addr{}, netip.Addr{}); err == nil {
		t.Fatal("IPv6 address encoded without error")
	}
	a.Addrs = make([]netip.Addr, 256)
	for i := range a.Addrs {
		a.Addrs[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
	}
	if _, err := a.Marshal(netip.Addr{}, netip.Addr{}); err == nil {
		t.Fatal("256 addresses encoded without error")
	}
}

func TestParseErrors(t *testing.T) {
	good := readHex(t, "keepalived-2.2.7-vrid51.hex")
	mod := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(good))
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short header", good[:7], ErrTruncated},
		{"header only", good[:8], ErrTruncated},
		{"missing auth data", good[:16], ErrTruncated},
		{"count larger than data", mod(func(b []byte) []byte { b[3] = 200; return b }), ErrTruncated},
		{"count 255 header only", []byte{0x21, 1, 100, 255, 0, 1, 0, 0}, ErrTruncated},
		{"version 4", mod(func(b []byte) []byte { b[0] = 0x41; return b }), ErrVersion},
		{"version 1", mod(func(b []byte) []byte { b[0] = 0x11; return b }), ErrVersion},
		{"type 2", mod(func(b []byte) []byte { b[0] = 0x22; return b }), ErrType},
		{"checksum", mod(func(b []byte) []byte { b[7] ^= 1; return b }), ErrChecksum},
		{"flipped address bit", mod(func(b []byte) []byte { b[9] ^= 0x80; return b }), ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in, netip.Addr{}, netip.Addr{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse error = %v, want %v", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want.Error()+": ") {
				t.Fatalf("error text %q does not start with %q and a detail", err, tc.want)
			}
		})
	}
}

func TestParseTrailingBytes(t *testing.T) {
	// The message is exactly 8 + 4n + 8 bytes: extra bytes mean a wrong count. A valid
	// checksum over the longer buffer does not make it acceptable.
	b, _ := keepalivedAdvert.Marshal(netip.Addr{}, netip.Addr{})
	b = append(b, 0, 0, 0, 0)
	if _, err := Parse(b, netip.Addr{}, netip.Addr{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Parse with trailer = %v, want malformed", err)
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	b := readHex(t, "keepalived-2.2.7-vrid51.hex")
	a, err := Parse(b, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xff
	}
	if !equalAdvert(a, keepalivedAdvert) {
		t.Fatalf("advert changed with its input buffer: %+v", a)
	}
}

func TestRoundTripAllCounts(t *testing.T) {
	for n := 0; n <= MaxAddrs; n += 17 {
		a := Advert{VRID: uint8(n + 1), Priority: uint8(n), AuthType: AuthPass, AdvertInt: 255,
			AuthData: AuthPassData("pw")}
		for i := 0; i < n; i++ {
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte{10, 1, byte(i), 1}))
		}
		b, err := a.Marshal(netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != a.Len() {
			t.Fatalf("len %d, Len() %d", len(b), a.Len())
		}
		back, err := Parse(b, netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		a.Checksum = back.Checksum
		if !equalAdvert(a, back) {
			t.Fatalf("n=%d: round trip differs", n)
		}
	}
}

func TestChecksumRFC1071(t *testing.T) {
	// RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2, checksum 0x220d.
	if got := Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != 0x220d {
		t.Fatalf("Checksum = %#04x, want 0x220d", got)
	}
	// Odd length: the last byte is padded with zero.
	if got, want := Checksum([]byte{0x01}), ^uint16(0x0100); got != want {
		t.Fatalf("Checksum odd = %#04x, want %#04x", got, want)
	}
}

// FuzzParseAdvert feeds both versions and both families: every input is parsed as the
// payload of an IPv4 and of an IPv6 packet, as is and with a correct checksum (VRRPv2's
// over the message, VRRPv3's over the pseudo-header), so that the fuzzer gets past the
// checksum into the address decoding (where gopacket's decoder would index out of range).
func FuzzParseAdvert(f *testing.F) {
	f.Add(readHex(f, "keepalived-2.2.7-vrid51.hex"))
	f.Add(readHex(f, "keepalived-2.2.7-v3-ipv4.hex"))
	f.Add(readHex(f, "keepalived-2.2.7-v3-ipv6.hex"))
	f.Add([]byte{0x21, 1, 100, 255, 0, 1, 0, 0})
	f.Add([]byte{0x21, 1, 100, 0, 0, 1, 0xdd, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x31, 1, 100, 0, 0, 1, 0, 0})
	f.Add([]byte{})
	src4, dst4 := netip.MustParseAddr("10.99.0.1"), MulticastGroup
	src6, dst6 := netip.MustParseAddr("fe80::ff:fe00:1"), MulticastGroup6
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range [][2]netip.Addr{{src4, dst4}, {src6, dst6}} {
			checkParse(t, b, p[0], p[1])
			if len(b) >= headerLen {
				fixed := bytes.Clone(b)
				fixed[6], fixed[7] = 0, 0
				c := Checksum(fixed)
				if fixed[0]>>4 == Version3 {
					c = PseudoChecksum(p[0], p[1], fixed)
				}
				fixed[6], fixed[7] = byte(c>>8), byte(c)
				checkParse(t, fixed, p[0], p[1])
			}
		}
	})
}

func checkParse(t *testing.T, b []byte, src, dst netip.Addr) {
	a, err := Parse(b, src, dst)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		return
	}
	// Anything accepted re-encodes to exactly the same bytes, but for VRRPv3's reserved
	// bits, which are ignored on receipt and sent as zero.
	out, err := a.Marshal(src, dst)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	want := b
	if a.Version == Version3 && b[4]&0xf0 != 0 {
		want = bytes.Clone(b)
		want[4] &= 0x0f
		want[6], want[7] = 0, 0
		c := PseudoChecksum(src, dst, want)
		want[6], want[7] = byte(c>>8), byte(c)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("re-encoded % x, input % x", out, b)
	}
}

func BenchmarkParse(b *testing.B) {
	msg := readHex(b, "keepalived-2.2.7-vrid51.hex")
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg, netip.Addr{}, netip.Addr{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	a := keepalivedAdvert
	buf := make([]byte, 0, a.Len())
	b.ReportAllocs()
	b.SetBytes(int64(a.Len()))
	for b.Loop() {
		var err error
		if buf, err = a.AppendTo(buf[:0], netip.Addr{}, netip.Addr{}); err != nil {
			b.Fatal(err)
		}
	}
}

func equalAdvert(a, b Advert) bool {
	if a.VRID != b.VRID || a.Priority != b.Priority || a.AuthType != b.AuthType ||
		a.AdvertInt != b.AdvertInt || a.Checksum != b.Checksum || a.AuthData != b.AuthData ||
		len(a.Addrs) != len(b.Addrs) {
		return false
	}
	for i := range a.Addrs {
		if a.Addrs[i] != b.Addrs[i] {
			return false
		}
	}
	return true
}
