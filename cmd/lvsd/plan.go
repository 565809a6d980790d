package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/daemon"
)

const planHelp = `
Show what reloading PATH would change in the running daemon, and apply nothing. PATH is a
.hcl file or a directory of *.hcl files, compared by identity with the daemon's running
configuration (see 'lvsd reload --help'). Each change says whether it may cause a VRRP
state transition, releases a VIP, recreates an IPVS service (never needed while the
service's identity holds) or resets health state.

Exit status: 0 no changes; 3 changes pending; 1 the configuration is invalid or could not
be applied (every problem on stderr as FILE:LINE:COL: message), or no daemon answered;
2 usage error.

--json prints {"changes": [{"op", "kind", "id", "name", "fields": [{"name","old","new"}],
"vrrp_transition", "releases_vip", "recreates_service", "resets_health"}], "problems": []}.`

// exitPending is plan's exit status when the configuration differs from the running one.
const exitPending = 3

func cmdPlan(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("plan", "", planHelp, stderr)
	path := fs.String("config", "", "configuration file or directory of *.hcl files to compare (required)")
	socket := fs.String("socket", defaultSocket, "control socket of the running daemon")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the daemon")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) || !requireFlag(fs, "config", *path, stderr) {
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := daemon.RequestPlan(ctx, *socket, *path)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd plan: %v\n", err)
		return exitFail
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w)
	}
	if *asJSON {
		if res.Changes == nil {
			res.Changes = []config.Change{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "lvsd plan: %v\n", err)
			return exitFail
		}
	}
	if len(res.Problems) > 0 {
		for _, p := range res.Problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "%s: %s\n", *path, countProblems(len(res.Problems)))
		return exitFail
	}
	if !*asJSON {
		for _, c := range res.Changes {
			fmt.Fprintln(stdout, c.String())
		}
		switch n := len(res.Changes); n {
		case 0:
			fmt.Fprintln(stdout, "no changes")
		case 1:
			fmt.Fprintln(stdout, "1 change pending")
		default:
			fmt.Fprintf(stdout, "%d changes pending\n", n)
		}
	}
	if len(res.Changes) > 0 {
		return exitPending
	}
	return exitOK
}
