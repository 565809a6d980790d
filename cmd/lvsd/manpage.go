package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lvsd/lvsd/internal/clidoc"
)

const manHelp = `
Print the lvsd(8) man page (roff) on stdout, generated from the same command and flag
definitions as --help. 'make install' and the packages install it; to read it now:

  lvsd man | man -l -`

const completionHelp = `
Print a shell completion script for lvsd's commands, subcommands and flags, generated from
the same definitions as --help. Load it in the current shell or install it:

  source <(lvsd completion bash)       bash: or save as /usr/share/bash-completion/completions/lvsd
  lvsd completion zsh > ~/.zfunc/_lvsd zsh: a directory in $fpath
  lvsd completion fish | source        fish: or save as ~/.config/fish/completions/lvsd.fish`

func cmdMan(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("man", "", manHelp, stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	if err := clidoc.Man(stdout, program()); err != nil {
		fmt.Fprintf(stderr, "lvsd man: %v\n", err)
		return exitFail
	}
	return exitOK
}

func cmdCompletion(args []string, stdout, stderr io.Writer) int {
	var subs []subcommand
	for _, shell := range clidoc.Shells {
		subs = append(subs, subcommand{shell, "print the " + shell + " completion script", func(args []string, stdout, stderr io.Writer) int {
			fs := newFlagSet("completion "+shell, "", "Print the "+shell+" completion script for lvsd.", stderr)
			if code, ok := parseFlags(fs, args, stdout); !ok {
				return code
			}
			if !noArgs(fs, stderr) {
				return exitUsage
			}
			if err := clidoc.Completion(stdout, program(), shell); err != nil {
				fmt.Fprintf(stderr, "lvsd completion: %v\n", err)
				return exitFail
			}
			return exitOK
		}})
	}
	return runSubcommands("completion", completionHelp, subs, args, stdout, stderr)
}

// program describes lvsd for the man page and the completions.
func program() clidoc.Program {
	p := clidoc.Program{
		Name:    "lvsd",
		Section: 8,
		Summary: "VRRP failover and IPVS load balancing for LVS clusters",
		Description: `lvsd does for Linux Virtual Server clusters what keepalived does, in one binary: a VRRP
router owns the virtual IP addresses, IPVS virtual services are programmed in-process over
netlink and reconciled against the kernel, health checkers add and remove real servers, and
localnode rules make two-box clusters safe. Its configuration is HCL with keepalived's
keyword names; 'lvsd convert' translates an existing keepalived.conf.

Every command takes its flags as --name value or --name=value; 'lvsd help COMMAND' or
'lvsd COMMAND --help' prints the command's help.`,
		Exit: "0 success; 1 invalid configuration or runtime failure; 2 usage error.",
		Files: []clidoc.Item{
			{Term: "/etc/lvsd/", Text: "configuration: a .hcl file or a directory whose *.hcl files are merged (lvsd.hcl in the packages)"},
			{Term: defaultSocket, Text: "control socket of the running daemon (global.control_socket), used by status and reload"},
			{Term: "/lib/systemd/system/lvsd.service", Text: "systemd unit (Type=notify; reload with systemctl reload lvsd)"},
		},
		SeeAlso: []string{"keepalived(8)", "ipvsadm(8)", "systemctl(1)"},
		Version: version,
		Date:    buildDate().Format("2006-01-02"),
	}
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		names = append(names, c.name)
	}
	for _, d := range describe() {
		c := clidoc.Command{Path: strings.Fields(d.name), Args: d.args, Summary: d.summary, Help: d.help}
		for _, f := range d.flags() {
			c.Flags = append(c.Flags, docFlag(f))
		}
		if d.name == "help" {
			c.Positional = names
		}
		p.Commands = append(p.Commands, c)
	}
	return p
}

// flagValues lists the flags whose values are a fixed set, by flag name.
var flagValues = map[string][]string{
	"log-format": {"text", "json"},
	"log-level":  {"debug", "info", "warn", "error"},
}

func docFlag(f *flag.Flag) clidoc.Flag {
	d := clidoc.Flag{Name: f.Name, Usage: f.Usage, Bool: isBoolFlag(f), Values: flagValues[f.Name]}
	if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
		d.Default = f.DefValue
	}
	// A flag whose help mentions a file, directory or socket takes a path.
	u := strings.ToLower(f.Usage)
	d.File = !d.Bool && (strings.Contains(u, "file") || strings.Contains(u, "director") || strings.Contains(u, "socket") || strings.Contains(u, "path"))
	return d
}

// buildDate is SOURCE_DATE_EPOCH when set (reproducible package builds), else now.
func buildDate() time.Time {
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		return time.Unix(s, 0).UTC()
	}
	return time.Now().UTC()
}
