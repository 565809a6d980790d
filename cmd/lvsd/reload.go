package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lvsd/lvsd/internal/daemon"
)

const reloadHelp = `
Ask the running daemon to read its configuration again (the --config path it was started
with) and apply what changed, as SIGHUP does. Objects keep their identity across a
reload, whatever their position or name in the files: a vrrp_instance is its interface +
virtual_router_id + family + unicast/multicast, a virtual_server its protocol +
address:port or fwmark, a real_server its IP:port. A MASTER stays MASTER and keeps its
VIPs; IPVS services and real servers are edited in place; health checkers that did not
change keep their state.

Applied: one line per change on stdout ("no changes" when none), exit 0.
Invalid or not applicable: every problem on stderr as FILE:LINE:COL: message, exit 1;
the running configuration stays untouched. Reloads are applied one at a time.`

func cmdReload(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("reload", "", reloadHelp, stderr)
	socket := fs.String("socket", defaultSocket, "control socket of the daemon to reload")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the daemon")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := daemon.RequestReload(ctx, *socket)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd reload: %v\n", err)
		return exitFail
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w)
	}
	if len(res.Problems) > 0 {
		for _, p := range res.Problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "lvsd reload: %s\n", countProblems(len(res.Problems)))
		return exitFail
	}
	if len(res.Changes) == 0 {
		fmt.Fprintln(stdout, "no changes")
	}
	for _, c := range res.Changes {
		fmt.Fprintln(stdout, c.String())
	}
	return exitOK
}
