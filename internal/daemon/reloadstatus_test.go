package daemon

import (
	"testing"
	"time"
)

func TestReloadRecord(t *testing.T) {
	start := time.Unix(1000, 0)
	var r reloadRecord
	if st := r.status(start); !st.LastReloadSuccessful || !st.LastSuccess.Equal(start) || st.Reloads != 0 {
		t.Errorf("before any reload: %+v, want the start as a successful load", st)
	}
	r.record(false, start.Add(time.Minute))
	st := r.status(start)
	if st.LastReloadSuccessful || !st.LastSuccess.Equal(start) || !st.LastReload.Equal(start.Add(time.Minute)) || st.FailedReloads != 1 {
		t.Errorf("after a failed reload: %+v", st)
	}
	r.record(true, start.Add(2*time.Minute))
	st = r.status(start)
	if !st.LastReloadSuccessful || !st.LastSuccess.Equal(start.Add(2*time.Minute)) || st.Reloads != 2 || st.FailedReloads != 1 {
		t.Errorf("after a good reload: %+v", st)
	}
}
