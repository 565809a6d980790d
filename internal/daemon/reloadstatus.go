package daemon

import (
	"sync"
	"time"
)

// ConfigStatus is the outcome of the configuration loads: the one at start and every
// reload since (SIGHUP, `lvsd reload`), for status and for the metrics
// lvsd_config_last_reload_successful and lvsd_config_last_reload_success_timestamp_seconds.
type ConfigStatus struct {
	LastReloadSuccessful bool      `json:"last_reload_successful"`
	LastReload           time.Time `json:"last_reload"`  // the last attempt; the start counts as one
	LastSuccess          time.Time `json:"last_success"` // the last load that was applied
	Reloads              uint64    `json:"reloads"`      // reload attempts since start
	FailedReloads        uint64    `json:"failed_reloads"`
}

// reloadRecord keeps ConfigStatus; its zero value means "loaded once, at start".
type reloadRecord struct {
	mu sync.Mutex
	st ConfigStatus
}

func (r *reloadRecord) record(ok bool, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Reloads++
	r.st.LastReload, r.st.LastReloadSuccessful = at, ok
	if ok {
		r.st.LastSuccess = at
	} else {
		r.st.FailedReloads++
	}
}

func (r *reloadRecord) status(started time.Time) *ConfigStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	if st.Reloads == 0 {
		st.LastReloadSuccessful, st.LastReload, st.LastSuccess = true, started, started
	}
	if st.LastSuccess.IsZero() {
		st.LastSuccess = started
	}
	return &st
}
