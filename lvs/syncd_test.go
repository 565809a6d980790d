package lvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// syncNE32 is a u32 in native byte order, as netlink carries it.
func syncNE32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func syncNLA(typ uint16, val []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func syncCat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestSyncDaemonRequest(t *testing.T) {
	const fam = 0x1d
	tests := []struct {
		name  string
		cmd   uint8
		d     SyncDaemonState
		flags uint16
		body  []byte // after the netlink header
	}{
		{"start master", ipvsCmdNewDaemon, SyncDaemonState{SyncMaster, "eth0", 51}, unix.NLM_F_REQUEST | unix.NLM_F_ACK,
			syncCat([]byte{9, 1, 0, 0}, syncNLA(3, syncCat(syncNLA(1, syncNE32(1)), syncNLA(2, []byte("eth0\x00")), syncNLA(3, syncNE32(51)))))},
		{"start backup, 15-byte name", ipvsCmdNewDaemon, SyncDaemonState{SyncBackup, "enp0s3.1234567a", 255}, unix.NLM_F_REQUEST | unix.NLM_F_ACK,
			syncCat([]byte{9, 1, 0, 0}, syncNLA(3, syncCat(syncNLA(1, syncNE32(2)), syncNLA(2, []byte("enp0s3.1234567a\x00")), syncNLA(3, syncNE32(255)))))},
		{"stop backup", ipvsCmdDelDaemon, SyncDaemonState{Role: SyncBackup}, unix.NLM_F_REQUEST | unix.NLM_F_ACK,
			syncCat([]byte{10, 1, 0, 0}, syncNLA(3, syncNLA(1, syncNE32(2))))},
		{"list", ipvsCmdGetDaemon, SyncDaemonState{}, unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_DUMP,
			[]byte{11, 1, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := syncDaemonRequest(fam, tt.cmd, tt.d).Serialize()
			if len(b) < 16 {
				t.Fatalf("%d bytes", len(b))
			}
			ne := binary.NativeEndian
			if l := ne.Uint32(b[0:4]); int(l) != len(b) {
				t.Errorf("nlmsg_len %d, message %d bytes", l, len(b))
			}
			if typ := ne.Uint16(b[4:6]); typ != fam {
				t.Errorf("nlmsg_type %#x, want the family id %#x", typ, fam)
			}
			if fl := ne.Uint16(b[6:8]); fl != tt.flags {
				t.Errorf("flags %#x, want %#x", fl, tt.flags)
			}
			if !bytes.Equal(b[16:], tt.body) {
				t.Errorf("body\n got % x\nwant % x", b[16:], tt.body)
			}
		})
	}
}

func TestParseSyncDaemon(t *testing.T) {
	hdr := []byte{ipvsCmdNewDaemon, 1, 0, 0}
	// As a 6.x kernel answers: more attributes than we read, nested without NLA_F_NESTED.
	full := syncCat(hdr, syncNLA(3, syncCat(syncNLA(1, syncNE32(1)), syncNLA(2, []byte("eth0\x00")), syncNLA(3, syncNE32(51)),
		syncNLA(4, []byte{0xc8, 0x05}), syncNLA(7, []byte{0x22, 0x90}), syncNLA(8, []byte{1}), syncNLA(5, []byte{224, 0, 0, 81}))))
	nestedFlag := syncCat(hdr, syncNLA(3|0x8000, syncCat(syncNLA(1, syncNE32(2)), syncNLA(2, []byte("bond0\x00")), syncNLA(3, syncNE32(7)))))
	tests := []struct {
		name string
		msg  []byte
		want SyncDaemonState
		err  string
	}{
		{"full", full, SyncDaemonState{SyncMaster, "eth0", 51}, ""},
		{"nested flag", nestedFlag, SyncDaemonState{SyncBackup, "bond0", 7}, ""},
		{"short", []byte{11, 1}, SyncDaemonState{}, "shorter than the genl header"},
		{"no daemon attr", syncCat(hdr, syncNLA(1, syncNE32(1))), SyncDaemonState{}, "without IPVS_CMD_ATTR_DAEMON"},
		{"no state", syncCat(hdr, syncNLA(3, syncNLA(2, []byte("eth0\x00")))), SyncDaemonState{}, "no state"},
		{"short state", syncCat(hdr, syncNLA(3, syncNLA(1, []byte{1, 0}))), SyncDaemonState{}, "state attribute of 2 bytes"},
		{"bad length", syncCat(hdr, []byte{0xff, 0, 3, 0}), SyncDaemonState{}, "out of range"},
		{"truncated header", syncCat(hdr, []byte{8, 0}), SyncDaemonState{}, "truncated"},
	}
	for _, tt := range tests {
		got, err := parseSyncDaemon(tt.msg)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.name, got, err, tt.want)
		}
	}
}

func FuzzParseSyncDaemon(f *testing.F) {
	f.Add(syncCat([]byte{9, 1, 0, 0}, syncNLA(3, syncCat(syncNLA(1, syncNE32(1)), syncNLA(2, []byte("eth0\x00")), syncNLA(3, syncNE32(51))))))
	f.Add([]byte{9, 1, 0, 0, 4, 0, 3, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseSyncDaemon(b) // must not panic
	})
}

func TestCheckSyncArgs(t *testing.T) {
	for _, tt := range []struct {
		role  SyncRole
		iface string
		ok    bool
	}{
		{SyncMaster, "eth0", true},
		{SyncBackup, "a23456789012345", true},
		{SyncBackup, "a234567890123456", false},
		{SyncMaster, "", false},
		{3, "eth0", false},
		{0, "eth0", false},
	} {
		if err := checkSyncArgs(tt.role, tt.iface); (err == nil) != tt.ok {
			t.Errorf("checkSyncArgs(%d, %q) = %v", tt.role, tt.iface, err)
		}
	}
}

func TestSyncFollower(t *testing.T) {
	fake := &FakeSyncDaemons{}
	f := NewSyncFollower(fake, "eth0", 51, nil)
	type step struct {
		state   SyncRole
		calls   []string
		running []SyncRole
	}
	steps := []step{
		{SyncBackup, []string{"stop master", "start backup eth0 51"}, []SyncRole{SyncBackup}},
		{SyncBackup, nil, []SyncRole{SyncBackup}},
		{SyncMaster, []string{"stop backup", "start master eth0 51"}, []SyncRole{SyncMaster}},
		{SyncBackup, []string{"stop master", "start backup eth0 51"}, []SyncRole{SyncBackup}},
		{SyncBackup, nil, []SyncRole{SyncBackup}},
		{SyncMaster, []string{"stop backup", "start master eth0 51"}, []SyncRole{SyncMaster}},
		{SyncRole(0), []string{"stop master", "stop backup"}, nil},
	}
	for i, s := range steps {
		fake.Calls = nil
		f.OnRole(s.state)
		if !reflect.DeepEqual(fake.Calls, s.calls) {
			t.Fatalf("step %d (%s): calls %q, want %q", i, s.state, fake.Calls, s.calls)
		}
		var running []SyncRole
		for _, r := range []SyncRole{SyncMaster, SyncBackup} {
			if _, ok := fake.Running[r]; ok {
				running = append(running, r)
			}
		}
		if !reflect.DeepEqual(running, s.running) {
			t.Fatalf("step %d (%s): running %v, want %v", i, s.state, running, s.running)
		}
	}

	// A failure is kept and the same state is tried again.
	fake.Fail = errors.New("netlink: no such device")
	f.OnRole(SyncMaster)
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), "no such device") {
		t.Fatalf("Err() = %v", err)
	}
	fake.Fail = nil
	fake.Calls = nil
	f.OnRole(SyncMaster)
	if want := []string{"stop backup", "start master eth0 51"}; !reflect.DeepEqual(fake.Calls, want) || f.Err() != nil {
		t.Errorf("retry: calls %q err %v", fake.Calls, f.Err())
	}
	if err := f.Stop(); err != nil || len(fake.Running) != 0 || f.Role() != 0 {
		t.Errorf("Stop: %v, running %v, role %v", err, fake.Running, f.Role())
	}
}
