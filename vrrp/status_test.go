package vrrp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestStatusJSON(t *testing.T) {
	s := newStatus(baseConfig("VI_1", 100, "10.0.0.1"))
	s.State = StateMaster
	s.LastTransition = TransitionRecord{At: time.Unix(0, 0).UTC(), From: StateBackup, To: StateMaster, Reason: ReasonPreempt}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"State":"MASTER"`, `"From":"BACKUP"`, `"Reason":"preempting lower priority master"`,
		`"VIPs":["192.0.2.100/32"]`, `"ttl":0`, `"not_peer":0`, `"send":0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}
