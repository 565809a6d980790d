package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lvsd/lvsd/internal/daemon"
)

const defaultSocket = "/run/lvsd/lvsd.sock"

const statusHelp = `
Show the running daemon's view: each VRRP instance (state, priority, VIPs, the master's
address, advert counters and packets dropped by reason) and each virtual server with its
real servers (weight, health, last check).

--summary shows each virtual server with the number of its real servers that are up
instead of listing them: the short form for a table of thousands of real servers.

--json prints the machine-readable form documented in docs/contract.md.`

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "", statusHelp, stderr)
	socket := fs.String("socket", defaultSocket, "control socket of the daemon to ask")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	summary := fs.Bool("summary", false, "count each virtual server's real servers instead of listing them")
	timeout := fs.Duration("timeout", 5*time.Second, "how long the daemon may send nothing before giving up (a large status keeps arriving for longer)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	st, err := daemon.QueryStatus(context.Background(), *socket, daemon.StatusQuery{Summary: *summary, Silence: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "lvsd status: %v\n", err)
		return exitFail
	}
	daemon.CountRealServers(st.VirtualServers)
	if *asJSON {
		w := bufio.NewWriter(stdout)
		err := daemon.WriteStatus(w, st, daemon.StatusFormat{Summary: *summary, Indent: "  "})
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			fmt.Fprintf(stderr, "lvsd status: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	w := bufio.NewWriter(stdout)
	writeStatusText(w, st, *summary, time.Now())
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "lvsd status: %v\n", err)
		return exitFail
	}
	return exitOK
}

// writeStatusText prints st for a person; summary counts each virtual server's real servers
// instead of listing them.
func writeStatusText(w io.Writer, st *daemon.Status, summary bool, now time.Time) {
	fmt.Fprintf(w, "lvsd %s, router_id %s, up %s\n", st.Version, st.RouterID, now.Sub(st.StartedAt).Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(st.VRRP) > 0 {
		fmt.Fprintln(w, "\nVRRP instances:")
		fmt.Fprintln(tw, "  NAME\tSTATE\tPRIO\tEFFECTIVE\tINTERFACE\tMASTER\tVIPS")
		for _, v := range st.VRRP {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\t%s\t%s\n", v.Name, v.State, v.Priority, v.EffectivePriority,
				v.Interface, orDash(v.MasterIP), strings.Join(v.VIPs, " "))
		}
		tw.Flush()
		for _, v := range st.VRRP {
			line := fmt.Sprintf("  %s: VRRPv%d %s, adverts sent %d, received %d, transitions %d", v.Name, v.Version, v.Family,
				v.AdvertsSent, v.AdvertsReceived, v.Transitions)
			if d := formatCounts(v.Drops); d != "" {
				line += ", dropped " + d
			}
			if v.AddrMismatches > 0 {
				line += fmt.Sprintf(", %d adverts with a different VIP list", v.AddrMismatches)
			}
			if e := formatCounts(v.Errors); e != "" {
				line += ", errors " + e
			}
			if t := v.LastTransition; t != nil {
				line += fmt.Sprintf("; last %s -> %s (%s) %s ago", t.From, t.To, t.Reason, now.Sub(t.At).Round(time.Second))
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(st.VirtualServers) > 0 {
		fmt.Fprintln(w, "\nVirtual servers:")
		for _, vs := range st.VirtualServers {
			extra := ""
			if vs.SorryActive {
				extra = ", quorum lost: sorry server " + vs.SorryServer + " active"
			}
			if summary {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d/%d real servers up%s\n", vs.Name, vs.Protocol, vs.Scheduler, vs.Kind,
					vs.RealServersUp, vs.RealServersTotal, extra)
				continue
			}
			fmt.Fprintf(w, "  %s %s %s %s%s\n", vs.Name, vs.Protocol, vs.Scheduler, vs.Kind, extra)
			for _, rs := range vs.RealServers {
				health := "down"
				if rs.Healthy {
					health = "up"
				}
				last := ""
				if !rs.LastCheck.IsZero() {
					last = fmt.Sprintf("last check %s ago: %s", now.Sub(rs.LastCheck).Round(time.Second), orDash(rs.LastResult))
				}
				fmt.Fprintf(tw, "    -> %s\tweight %d\t%s\t%s\n", rs.Address, rs.Weight, health, last)
			}
			tw.Flush()
		}
		tw.Flush()
	}
	if r := st.IPVS; r != nil {
		line := fmt.Sprintf("\nIPVS (%s backend): %d services owned", r.Backend, r.Owned)
		if !r.LastReconcile.IsZero() {
			line += fmt.Sprintf(", last reconcile %s ago took %s", now.Sub(r.LastReconcile).Round(time.Second), r.Took.Round(time.Millisecond))
			if r.Ops == 0 {
				line += ", in sync"
			} else {
				line += fmt.Sprintf(", %d ops (%d failed)", r.Ops, r.Failed)
			}
		}
		if r.Error != "" {
			line += "; error: " + r.Error
		}
		fmt.Fprintln(w, line)
	}
	if len(st.Localnodes) > 0 {
		fmt.Fprintln(w, "\nLocalnode:")
		for _, l := range st.Localnodes {
			state := "not installed"
			if l.Installed {
				state = "installed"
			}
			if l.Error != "" {
				state += ": " + l.Error
			}
			fmt.Fprintf(w, "  %s (%s, role %s): %s\n", l.Name, l.Mode, orDash(l.Role), state)
		}
	}
}

func formatCounts(drops map[string]uint64) string {
	var keys []string
	for k, n := range drops {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, drops[k])
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
