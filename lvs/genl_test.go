package lvs

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	a := netip.MustParseAddr
	for _, s := range []Service{
		{Key: AddrKey(TCP, a("10.0.0.1"), 80), Scheduler: "wlc"},
		{Key: AddrKey(UDP, a("10.0.0.1"), 53), Scheduler: "rr", Persistence: 300, NetmaskBits: 16, Flags: FlagOnePacket},
		{Key: AddrKey(SCTP, a("2001:db8::1"), 9), Scheduler: "mh", Flags: FlagSched1 | FlagSched2, Persistence: 60, NetmaskBits: 64, PEName: "sip"},
		{Key: FWMarkKey(IPv6, 5), Scheduler: "my-own-scheduler"},
		{Key: FWMarkKey(IPv4, 0xffffffff), Scheduler: "sh", Flags: FlagSched3},
	} {
		var m msg
		if err := m.appendOp(30, 1, &Op{Kind: AddService, Service: &s}); err != nil {
			t.Fatal(err)
		}
		nm, rest, err := nextMessage(m.b)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: split: %v, %d bytes left", s.Key, err, len(rest))
		}
		got, err := decodeService(nm.Data)
		if err != nil {
			t.Fatalf("%s: %v", s.Key, err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("service round trip:\n got %+v\nwant %+v", got, s)
		}
	}
	svc := Service{Key: AddrKey(TCP, a("10.0.0.1"), 80)}
	for _, d := range []Destination{
		{Addr: a("10.0.0.2"), Port: 80, Weight: 1, Forward: DR},
		{Addr: a("10.0.0.3"), Port: 8080, Weight: 65535, Forward: NAT, UpperThreshold: 1000, LowerThreshold: 10},
		{Addr: a("2001:db8::2"), Port: 80, Weight: 0, Forward: TUN},
	} {
		var m msg
		if err := m.appendOp(30, 1, &Op{Kind: EditDest, Service: &svc, Dest: &d}); err != nil {
			t.Fatal(err)
		}
		nm, _, _ := nextMessage(m.b)
		gs, err := decodeService(nm.Data)
		if err != nil || gs.Key != svc.Key {
			t.Errorf("service key of a dest request: %v, %v", gs.Key, err)
		}
		got, err := decodeDest(nm.Data, IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("dest round trip:\n got %+v\nwant %+v", got, d)
		}
	}
}

// kernelDestReply builds a GET_DEST reply the way the kernel does: 16-byte address,
// counters, 32- and 64-bit statistics.
func kernelDestReply() []byte {
	var m msg
	start := m.begin(30, nlmFMulti, 9, cmdNewDest)
	n := m.nestBegin(attrCmdDest)
	m.attr(dstAddr, []byte{10, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	m.be16(dstPort, 443)
	m.u32(dstFwdMethod, 3|0x100) // other connection flags above the forwarding method
	m.u32(dstWeight, 5)
	m.u32(dstUThresh, 0)
	m.u32(dstLThresh, 0)
	m.u32(dstActive, 12)
	m.u32(dstInactive, 34)
	m.u32(dstPersistent, 0)
	m.u16(dstAF, afInet)
	st := m.nestBegin(dstStats)
	m.u32(statsConns, 1) // 32-bit view, superseded by the 64-bit one
	m.nestEnd(st)
	st = m.nestBegin(dstStats64 | 0x8000) // NLA_F_NESTED is masked
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 5000000000)
	m.attr(statsConns, b[:])
	m.attr(statsInBytes, b[:])
	m.nestEnd(st)
	m.nestEnd(n)
	m.end(start)
	return m.b
}

func TestDecodeKernelReply(t *testing.T) {
	b := kernelDestReply()
	b = append(b, b...) // two messages in one datagram
	var got []Destination
	for len(b) > 0 {
		nm, rest, err := nextMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		b = rest
		d, err := decodeDest(nm.Data, IPv4)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	want := Destination{Addr: netip.MustParseAddr("10.0.0.7"), Port: 443, Weight: 5, Forward: DR,
		ActiveConns: 12, InactiveConns: 34, Stats: Stats{Conns: 5000000000, InBytes: 5000000000}}
	if len(got) != 2 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestDecodeTruncated(t *testing.T) {
	b := kernelDestReply()
	for n := 0; n < len(b); n++ {
		// Must not panic; either a clean error or a partial parse.
		if nm, _, err := nextMessage(b[:n]); err == nil {
			decodeDest(nm.Data, IPv4)
		}
	}
	if _, _, err := nextMessage(b[:10]); err == nil {
		t.Error("10-byte message accepted")
	}
	bad := bytes.Clone(b)
	binary.NativeEndian.PutUint16(bad[nlmsgHdrLen+genlHdrLen:], 0xfff0) // nested length beyond the end
	nm, _, _ := nextMessage(bad)
	if _, err := decodeDest(nm.Data, IPv4); err == nil {
		t.Error("oversized attribute accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(kernelDestReply())
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			nm, rest, err := nextMessage(b)
			if err != nil {
				return
			}
			b = rest
			decodeDest(nm.Data, IPv6)
			decodeService(nm.Data)
		}
	})
}

// The user-space half of a kernel read at keepalived's largest size: parsing 37,205
// destination messages (the kernel's half is measured in the VM by internal/bench/ipvs).
func BenchmarkDecodeDests(b *testing.B) {
	one := kernelDestReply()
	buf := bytes.Repeat(one, 37205)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		rest := buf
		n := 0
		for len(rest) > 0 {
			nm, r, err := nextMessage(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = r
			if _, err := decodeDest(nm.Data, IPv4); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 37205 {
			b.Fatal(n)
		}
	}
}

func TestErrnoOf(t *testing.T) {
	b := binary.NativeEndian.AppendUint32(nil, uint32(0xfffffffe)) // -ENOENT, as the kernel writes it
	if code, err := errnoOf(b); err != nil || code != 2 {
		t.Errorf("errnoOf(-2) = %d, %v; want 2", code, err)
	}
	if code, _ := errnoOf(make([]byte, 20)); code != 0 {
		t.Errorf("ack read as errno %d", code)
	}
	if _, err := errnoOf([]byte{1}); err == nil {
		t.Error("short error message accepted")
	}
}
