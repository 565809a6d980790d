package vrrp

import "testing"

func TestStatusCountsMasterTransitions(t *testing.T) {
	var s Status
	for _, tr := range [][2]State{
		{StateInit, StateBackup}, {StateBackup, StateMaster}, {StateMaster, StateBackup},
		{StateBackup, StateFault}, {StateFault, StateMaster}, {StateMaster, StateInit},
	} {
		s.countMaster(tr[0], tr[1])
	}
	if s.BecameMaster != 2 || s.ReleasedMaster != 2 {
		t.Errorf("became %d released %d, want 2 and 2", s.BecameMaster, s.ReleasedMaster)
	}
}
