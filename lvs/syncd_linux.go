package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Sync daemon commands of the IPVS generic netlink family (include/uapi/linux/ip_vs.h).
// moby/ipvs has none of them, so the requests are built here with vishvananda/netlink/nl.
const (
	ipvsCmdNewDaemon = 9  // IPVS_CMD_NEW_DAEMON
	ipvsCmdDelDaemon = 10 // IPVS_CMD_DEL_DAEMON
	ipvsCmdGetDaemon = 11 // IPVS_CMD_GET_DAEMON (dump)

	ipvsCmdAttrDaemon = 3 // IPVS_CMD_ATTR_DAEMON, nested

	daemonAttrState    = 1 // IPVS_DAEMON_ATTR_STATE, u32: IP_VS_STATE_MASTER/BACKUP
	daemonAttrMcastIfn = 2 // IPVS_DAEMON_ATTR_MCAST_IFN, NUL-terminated string
	daemonAttrSyncID   = 3 // IPVS_DAEMON_ATTR_SYNC_ID, u32

	syncIfnameMax = 15 // IP_VS_IFNAME_MAXLEN 16 with the NUL

	syncNlaTypeMask = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// syncGenlHeader is the generic netlink header (cmd, version 1, reserved), written byte by
// byte so that the reserved bytes are zero.
type syncGenlHeader struct{ cmd uint8 }

func (h syncGenlHeader) Len() int          { return 4 }
func (h syncGenlHeader) Serialize() []byte { return []byte{h.cmd, 1, 0, 0} }

// syncDaemonRequest builds a daemon request for the IPVS family id. Pure. NEW carries
// state, interface and sync id; DEL only the state (the kernel keys daemons by state);
// GET is a dump without attributes.
func syncDaemonRequest(family uint16, cmd uint8, d SyncDaemonState) *nl.NetlinkRequest {
	flags := unix.NLM_F_ACK
	if cmd == ipvsCmdGetDaemon {
		flags |= unix.NLM_F_DUMP
	}
	req := nl.NewNetlinkRequest(int(family), flags)
	req.AddData(syncGenlHeader{cmd})
	if cmd == ipvsCmdGetDaemon {
		return req
	}
	nest := nl.NewRtAttr(ipvsCmdAttrDaemon, nil)
	nest.AddRtAttr(daemonAttrState, nl.Uint32Attr(uint32(d.Role)))
	if cmd == ipvsCmdNewDaemon {
		nest.AddRtAttr(daemonAttrMcastIfn, nl.ZeroTerminated(d.Interface))
		nest.AddRtAttr(daemonAttrSyncID, nl.Uint32Attr(uint32(d.SyncID)))
	}
	req.AddData(nest)
	return req
}

// syncAttrs walks netlink attributes, checking every length; f gets each type (flags
// masked off) and value.
func syncAttrs(b []byte, f func(typ uint16, val []byte)) error {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("truncated attribute header (%d bytes)", len(b))
		}
		l := int(ne.Uint16(b[0:2]))
		if l < 4 || l > len(b) {
			return fmt.Errorf("attribute length %d out of range (%d bytes left)", l, len(b))
		}
		f(ne.Uint16(b[2:4])&syncNlaTypeMask, b[4:l])
		b = b[min((l+3)&^3, len(b)):]
	}
	return nil
}

// parseSyncDaemon decodes one IPVS_CMD_GET_DAEMON reply (generic netlink header and
// attributes). Pure.
func parseSyncDaemon(msg []byte) (SyncDaemonState, error) {
	var d SyncDaemonState
	if len(msg) < 4 {
		return d, fmt.Errorf("sync daemon reply: %d bytes, shorter than the genl header", len(msg))
	}
	var nested []byte
	found := false
	if err := syncAttrs(msg[4:], func(typ uint16, val []byte) {
		if typ == ipvsCmdAttrDaemon {
			nested, found = val, true
		}
	}); err != nil {
		return d, fmt.Errorf("sync daemon reply: %w", err)
	}
	if !found {
		return d, fmt.Errorf("sync daemon reply without IPVS_CMD_ATTR_DAEMON")
	}
	var bad error
	haveState := false
	err := syncAttrs(nested, func(typ uint16, val []byte) {
		switch typ {
		case daemonAttrState:
			if len(val) < 4 {
				bad = fmt.Errorf("state attribute of %d bytes", len(val))
				return
			}
			d.Role, haveState = SyncRole(binary.NativeEndian.Uint32(val)), true
		case daemonAttrMcastIfn:
			for i, c := range val {
				if c == 0 {
					val = val[:i]
					break
				}
			}
			d.Interface = string(val)
		case daemonAttrSyncID:
			if len(val) < 4 {
				bad = fmt.Errorf("sync id attribute of %d bytes", len(val))
				return
			}
			d.SyncID = uint8(binary.NativeEndian.Uint32(val))
		}
	})
	if err == nil {
		err = bad
	}
	if err == nil && !haveState {
		err = fmt.Errorf("no state attribute")
	}
	if err != nil {
		return d, fmt.Errorf("sync daemon reply: %w", err)
	}
	return d, nil
}

// checkSyncArgs validates what the kernel would truncate or reject.
func checkSyncArgs(role SyncRole, iface string) error {
	if !role.valid() {
		return fmt.Errorf("sync daemon role %d: want master (1) or backup (2)", uint32(role))
	}
	if iface == "" || len(iface) > syncIfnameMax {
		return fmt.Errorf("sync daemon interface %q: want 1 to %d bytes", iface, syncIfnameMax)
	}
	return nil
}

// ipvsFamilyID looks up the IPVS generic netlink family in the caller's network namespace.
func ipvsFamilyID() (uint16, error) {
	fam, err := netlink.GenlFamilyGet("IPVS")
	if err != nil {
		return 0, fmt.Errorf("generic netlink family IPVS not found (is the ip_vs module loaded?): %w", err)
	}
	return fam.ID, nil
}

// syncTimeout bounds one request: starting or stopping a daemon waits for a kernel thread,
// and a VRRP transition must not wait for it longer than this (the library's default is a
// minute). A timed-out request may still complete in the kernel; the follower retries on
// the next transition.
const syncTimeout = 10 * time.Second

func execSync(cmd uint8, d SyncDaemonState) ([][]byte, error) {
	fam, err := ipvsFamilyID()
	if err != nil {
		return nil, err
	}
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	defer s.Close()
	tv := unix.NsecToTimeval(syncTimeout.Nanoseconds())
	if err := s.SetReceiveTimeout(&tv); err != nil {
		return nil, err
	}
	if err := s.SetSendTimeout(&tv); err != nil {
		return nil, err
	}
	req := syncDaemonRequest(fam, cmd, d)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_GENERIC: {Socket: s}}
	msgs, err := req.Execute(unix.NETLINK_GENERIC, 0)
	if errors.Is(err, unix.EAGAIN) {
		return nil, fmt.Errorf("no answer from the kernel within %s: %w", syncTimeout, err)
	}
	return msgs, err
}

// StartSyncDaemon starts the kernel's sync daemon in role on iface with syncID. Idempotent:
// a daemon of that role already running with the same interface and id is fine; one with
// other settings is restarted with these.
func StartSyncDaemon(role SyncRole, iface string, syncID uint8) error {
	if err := checkSyncArgs(role, iface); err != nil {
		return err
	}
	want := SyncDaemonState{Role: role, Interface: iface, SyncID: syncID}
	_, err := execSync(ipvsCmdNewDaemon, want)
	if errors.Is(err, unix.EEXIST) {
		running, lerr := SyncDaemons()
		if lerr != nil {
			return fmt.Errorf("start %s: already running, and listing failed: %w", want, lerr)
		}
		for _, r := range running {
			if r == want {
				return nil
			}
		}
		if err := StopSyncDaemon(role); err != nil {
			return fmt.Errorf("start %s: restart of the running one: %w", want, err)
		}
		_, err = execSync(ipvsCmdNewDaemon, want)
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", want, err)
	}
	return nil
}

// StopSyncDaemon stops the kernel's sync daemon in role; stopping one that does not run
// (ESRCH) is fine.
func StopSyncDaemon(role SyncRole) error {
	if !role.valid() {
		return fmt.Errorf("sync daemon role %d: want master (1) or backup (2)", uint32(role))
	}
	_, err := execSync(ipvsCmdDelDaemon, SyncDaemonState{Role: role})
	if err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop %s sync daemon: %w", role, err)
	}
	return nil
}

// SyncDaemons lists the running sync daemons (at most one master and one backup).
func SyncDaemons() ([]SyncDaemonState, error) {
	msgs, err := execSync(ipvsCmdGetDaemon, SyncDaemonState{})
	if err != nil {
		return nil, fmt.Errorf("list sync daemons: %w", err)
	}
	var out []SyncDaemonState
	for _, m := range msgs {
		d, err := parseSyncDaemon(m)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// KernelSyncDaemons is the SyncDaemonControl of the running kernel (the caller's network
// namespace).
type KernelSyncDaemons struct{}

var _ SyncDaemonControl = KernelSyncDaemons{}

func (KernelSyncDaemons) StartSyncDaemon(role SyncRole, iface string, syncID uint8) error {
	return StartSyncDaemon(role, iface, syncID)
}

func (KernelSyncDaemons) StopSyncDaemon(role SyncRole) error { return StopSyncDaemon(role) }
