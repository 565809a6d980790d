// Command lvsd does for LVS clusters what keepalived does: a VRRPv2 router owns the virtual
// IPs, IPVS is programmed in-process over netlink, and health checkers add and remove real
// servers. main only dispatches; each subcommand lives in its own file.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes, as documented in --help: 0 success, 1 failure (invalid config, daemon error),
// 2 usage error; plan adds 3 (changes pending).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run the daemon in the foreground", cmdRun},
		{"validate", "check a configuration and print a summary", cmdValidate},
		{"status", "show the running daemon's VRRP and virtual server state", cmdStatus},
		{"reload", "apply the running daemon's configuration again (as SIGHUP)", cmdReload},
		{"plan", "show what reloading a configuration would change", cmdPlan},
		{"ipvs", "show the kernel's IPVS table (list, save)", cmdIPVS},
		{"doctor", "check what the config needs of this host (a director)", cmdDoctor},
		{"realserver", "prepare a real server: VIPs, ARP settings (setup, teardown, check)", cmdRealserver},
		{"convert", "translate a keepalived.conf into lvsd's HCL", cmdConvert},
		{"version", "print the version", cmdVersion},
		{"man", "print the lvsd(8) man page", cmdMan},
		{"completion", "print a bash, zsh or fish completion script", cmdCompletion},
		{"help", "show help for a command", cmdHelp},
	}
}

const mainUsage = `lvsd: VRRP failover and IPVS load balancing for LVS clusters (keepalived-compatible).

Usage:
  lvsd <command> [flags]

Commands:
%s
Run 'lvsd help <command>' or 'lvsd <command> --help' for a command's flags.

Exit status: 0 success; 1 invalid configuration or runtime failure; 2 usage error;
'lvsd plan' exits 3 when changes are pending.
`

func usage(w io.Writer) {
	var list string
	for _, c := range commands() {
		list += fmt.Sprintf("  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, mainUsage, list)
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return cmdVersion(nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "lvsd: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "Print the version.", stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	fmt.Fprintf(stdout, "lvsd %s\n", version)
	return exitOK
}

func cmdHelp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("help", " [command]", "Show the help of a command (the same as 'lvsd COMMAND --help'), or the list of commands.", stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	args = fs.Args()
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] && c.name != "help" {
			return c.run([]string{"--help"}, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "lvsd help: unknown command %q\n", args[0])
	return exitUsage
}
