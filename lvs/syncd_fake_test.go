package lvs

import (
	"fmt"
	"sync"
)

// FakeSyncDaemons is an in-memory SyncDaemonControl for tests (the kernel's rules: one
// daemon per role, both may run at once).
type FakeSyncDaemons struct {
	mu      sync.Mutex
	Running map[SyncRole]SyncDaemonState
	Calls   []string // "start master eth0 51", "stop backup", in order
	Fail    error    // returned by every call while set
}

var _ SyncDaemonControl = (*FakeSyncDaemons)(nil)

func (f *FakeSyncDaemons) StartSyncDaemon(role SyncRole, iface string, syncID uint8) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, fmt.Sprintf("start %s %s %d", role, iface, syncID))
	if f.Fail != nil {
		return f.Fail
	}
	if f.Running == nil {
		f.Running = map[SyncRole]SyncDaemonState{}
	}
	f.Running[role] = SyncDaemonState{Role: role, Interface: iface, SyncID: syncID}
	return nil
}

func (f *FakeSyncDaemons) StopSyncDaemon(role SyncRole) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, "stop "+role.String())
	if f.Fail != nil {
		return f.Fail
	}
	delete(f.Running, role)
	return nil
}
