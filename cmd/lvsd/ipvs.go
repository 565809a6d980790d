package main

import (
	"fmt"
	"io"

	"github.com/lvsd/lvsd/lvs"
)

const ipvsHelp = `
Show the kernel's IPVS table (all of it, not only what lvsd owns) in ipvsadm's formats,
so habits and scripts carry over:

  lvsd ipvs list [--stats|--rate] [--exact]   as 'ipvsadm -Ln'
  lvsd ipvs save                              as 'ipvsadm-save -n' (input for ipvsadm-restore)

Needs root (netlink) and a kernel with IPVS.`

func cmdIPVS(args []string, stdout, stderr io.Writer) int {
	return runSubcommands("ipvs", ipvsHelp, []subcommand{
		{"list", "print the IPVS table as 'ipvsadm -Ln'", ipvsList},
		{"save", "print the IPVS table as 'ipvsadm-save -n'", ipvsSave},
	}, args, stdout, stderr)
}

func ipvsList(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ipvs list", "", "Print the kernel's IPVS table in 'ipvsadm -Ln' layout.", stderr)
	stats := fs.Bool("stats", false, "show counters (Conns InPkts OutPkts InBytes OutBytes), as ipvsadm --stats")
	rate := fs.Bool("rate", false, "show rates (CPS InPPS OutPPS InBPS OutBPS), as ipvsadm --rate")
	exact := fs.Bool("exact", false, "print exact numbers instead of K/M/G abbreviations, as ipvsadm --exact")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	if *stats && *rate {
		fmt.Fprintln(stderr, "lvsd ipvs list: --stats and --rate are exclusive")
		return exitUsage
	}
	if err := lvs.List(stdout, lvs.ListOptions{Stats: *stats, Rate: *rate, Exact: *exact}); err != nil {
		fmt.Fprintf(stderr, "lvsd ipvs list: %v\n", err)
		return exitFail
	}
	return exitOK
}

func ipvsSave(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ipvs save", "", "Print the kernel's IPVS table in 'ipvsadm-save -n' format.", stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	if err := lvs.Save(stdout); err != nil {
		fmt.Fprintf(stderr, "lvsd ipvs save: %v\n", err)
		return exitFail
	}
	return exitOK
}
