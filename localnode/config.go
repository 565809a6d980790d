package localnode

import (
	"net"
	"net/netip"
	"strconv"
)

// Config is one localnode block, as the daemon hands it over (the engine does not read
// lvsd's configuration itself).
type Config struct {
	Name     string
	Instance string // the VRRP instance whose role the block follows
	Mode     Mode
	VIP      netip.Addr // invalid when not needed (backup_only)
	Port     uint16     // 0 = every port
	Protocol string     // "TCP", "UDP" or "SCTP"
	PeerMAC  net.HardwareAddr
	FWMark   uint32
	Where    string // the block's position in the configuration, for messages
}

// Mode is how a two-box cluster avoids looping packets.
type Mode uint8

const (
	ModeFWMark     Mode = iota // mark client packets unless from the peer director's MAC
	ModeBypass                 // on BACKUP, redirect VIP traffic to the local service
	ModeBackupOnly             // net.ipv4.vs.backup_only while BACKUP
)

func (m Mode) String() string {
	switch m {
	case ModeFWMark:
		return "fwmark"
	case ModeBypass:
		return "bypass"
	case ModeBackupOnly:
		return "backup_only"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}
