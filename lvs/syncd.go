package lvs

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// The IPVS connection synchronisation daemon (ipvsadm --start-daemon): the kernel's master
// thread multicasts the state of every connection this director balances (224.0.0.81, UDP
// 8848) and the backup thread receives it, so that the connections survive a failover.
// It also matters to localnode mode backup_only: net.ipv4.vs.backup_only only disables
// the director while the backup thread runs. This file is the pure part: roles, states and
// the role follower; the netlink side is in syncd_linux.go.

// SyncRole is a sync daemon's state, numbered as the kernel's IP_VS_STATE_MASTER and
// IP_VS_STATE_BACKUP (include/uapi/linux/ip_vs.h).
type SyncRole uint32

const (
	SyncMaster SyncRole = 1
	SyncBackup SyncRole = 2
)

func (r SyncRole) String() string {
	switch r {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return fmt.Sprintf("SyncRole(%d)", uint32(r))
}

func (r SyncRole) valid() bool { return r == SyncMaster || r == SyncBackup }

// SyncDaemonState is one running sync daemon as the kernel reports it.
type SyncDaemonState struct {
	Role      SyncRole
	Interface string // multicast interface
	SyncID    uint8  // only messages with this id are accepted by a backup
}

func (s SyncDaemonState) String() string {
	return fmt.Sprintf("%s sync daemon (mcast_interface=%s syncid=%d)", s.Role, s.Interface, s.SyncID)
}

// SyncDaemonControl starts and stops the kernel's sync daemons; both idempotent.
// KernelSyncDaemons is the real one.
type SyncDaemonControl interface {
	StartSyncDaemon(role SyncRole, iface string, syncID uint8) error
	StopSyncDaemon(role SyncRole) error
}

// SyncFollower moves the sync daemon with a VRRP instance, as keepalived's
// lvs_sync_daemon does: MASTER runs the master daemon, BACKUP and FAULT the backup daemon,
// and when the instance stops (INIT) both are stopped. The old role's daemon is stopped
// before the new one starts, so that backup_only never sees a backup daemon on a MASTER.
type SyncFollower struct {
	ctl    SyncDaemonControl
	iface  string
	syncID uint8
	log    *slog.Logger

	mu   sync.Mutex
	role SyncRole // 0 = none running
	err  error    // of the last transition
}

// NewSyncFollower follows one instance; nothing runs until the first OnState.
func NewSyncFollower(ctl SyncDaemonControl, iface string, syncID uint8, log *slog.Logger) *SyncFollower {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SyncFollower{ctl: ctl, iface: iface, syncID: syncID, log: log.With("component", "lvs_sync_daemon")}
}

// OnRole applies one VRRP transition of the followed instance, as the daemon maps it:
// MASTER runs the master daemon, BACKUP and FAULT the backup daemon, a stopped instance
// none (0). Called in transition order. Failures are logged, kept for Err, and retried by
// the next transition.
func (f *SyncFollower) OnRole(want SyncRole) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if want == f.role && f.err == nil {
		return
	}
	cause := "vrrp instance became " + roleName(want)
	var errs []error
	for _, r := range []SyncRole{SyncMaster, SyncBackup} {
		if r == want {
			continue
		}
		if err := f.ctl.StopSyncDaemon(r); err != nil {
			errs = append(errs, err)
		}
	}
	if want != 0 {
		if err := f.ctl.StartSyncDaemon(want, f.iface, f.syncID); err != nil {
			errs = append(errs, err)
		}
	}
	f.err = errors.Join(errs...)
	f.role = want
	if f.err != nil {
		f.log.Error("sync daemon change failed", "want", roleName(want), "cause", cause, "err", f.err)
		return
	}
	f.log.Info("sync daemon", "running", roleName(want), "interface", f.iface, "syncid", f.syncID, "cause", cause)
}

// Stop stops both daemons (OnRole(0)) and returns the failure, if any.
func (f *SyncFollower) Stop() error {
	f.OnRole(0)
	return f.Err()
}

// Err is the failure of the last transition, nil when it succeeded.
func (f *SyncFollower) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Role is the daemon that should be running now (0 for none).
func (f *SyncFollower) Role() SyncRole {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.role
}

func roleName(r SyncRole) string {
	if r == 0 {
		return "none"
	}
	return r.String()
}
