package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "db2c6110123456789abcdef"}, {Key: "vcs.modified", Value: "true"},
	}}
	if got := buildVersion(info, true); got != "dev+db2c61101234-dirty" {
		t.Errorf("stamped build: %q", got)
	}
	if got := buildVersion(&debug.BuildInfo{}, true); got != "dev" {
		t.Errorf("unstamped build: %q", got)
	}
	if got := buildVersion(nil, false); got != "dev" {
		t.Errorf("no build info: %q", got)
	}
}
