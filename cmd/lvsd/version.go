package main

import "runtime/debug"

// version is set at link time by the Makefile from `git describe --tags --always --dirty`
// (-X main.version=...). A plain `go build` leaves "dev"; then the VCS information the Go
// toolchain stamps into the binary says which commit it is.
var version = "dev"

func init() {
	if version == "dev" {
		version = buildVersion(debug.ReadBuildInfo())
	}
}

// buildVersion is "dev+REV12[-dirty]" from the toolchain's VCS stamp, or "dev" without one.
func buildVersion(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "dev"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "dev"
	}
	return "dev+" + rev + dirty
}
