package main

import "testing"

func TestParseResults(t *testing.T) {
	out := "=== RUN TestX\nVMTEST-RESULT lvs 0 100.5 112.75\nnoise\nVMTEST-RESULT e2e 1 113.0 200.0\n"
	got := parseResults(out)
	if r := got["lvs"]; r.rc != 0 || r.secs != 12.25 {
		t.Errorf("lvs = %+v", r)
	}
	if r := got["e2e"]; r.rc != 1 || r.secs != 87 {
		t.Errorf("e2e = %+v", r)
	}
	if len(got) != 2 {
		t.Errorf("got %d results, want 2", len(got))
	}
}
