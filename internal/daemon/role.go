package daemon

import (
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/localnode"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/vrrp"
)

// role is what a VRRP instance's state means to the parts that follow it (localnode
// rules, the IPVS sync daemon). This is the one place where VRRP states become roles.
type role uint8

const (
	roleNone   role = iota // INIT: the instance is stopped (or not started)
	roleBackup             // BACKUP or FAULT: not the director
	roleMaster             // MASTER: balances
)

func roleOf(s vrrp.State) role {
	switch s {
	case vrrp.StateMaster:
		return roleMaster
	case vrrp.StateBackup, vrrp.StateFault:
		return roleBackup
	}
	return roleNone
}

// localnode is the role for localnode rules: only MASTER balances; a stopped instance's
// box is a plain real server, as a backup.
func (r role) localnode() localnode.Role {
	if r == roleMaster {
		return localnode.RoleMaster
	}
	return localnode.RoleBackup
}

// sync is the sync daemon that should run: master, backup, or none (0) when stopped.
func (r role) sync() lvs.SyncRole {
	switch r {
	case roleMaster:
		return lvs.SyncMaster
	case roleBackup:
		return lvs.SyncBackup
	}
	return 0
}

// localnodeConfigs translates the localnode blocks into the engine's own type.
func localnodeConfigs(lns []config.Localnode) []localnode.Config {
	out := make([]localnode.Config, 0, len(lns))
	for _, ln := range lns {
		c := localnode.Config{Name: ln.Name, Instance: ln.VRRPInstance, VIP: ln.VIP, Port: ln.Port,
			Protocol: ln.Protocol.String(), PeerMAC: ln.PeerMAC, FWMark: ln.FWMark, Where: ln.Pos.String()}
		switch ln.Mode {
		case config.ModeBypass:
			c.Mode = localnode.ModeBypass
		case config.ModeBackupOnly:
			c.Mode = localnode.ModeBackupOnly
		default:
			c.Mode = localnode.ModeFWMark
		}
		out = append(out, c)
	}
	return out
}
