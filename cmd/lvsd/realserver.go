package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvsd/lvsd/internal/realserver"
)

const realserverHelp = `
Prepare this host to be a real server behind LVS directors (LVS-DR or LVS-TUN), undo it,
or check it. The real server does not run the daemon; these commands only set up the
addresses and kernel settings the forwarding method needs.

Exit status: 0 done (check: nothing missing); 1 failure (check: findings); 2 usage error.

Example (LVS-DR, web servers on port 80):
  lvsd realserver setup --vip 192.0.2.10
  lvsd realserver check --vip 192.0.2.10 --port 80
  lvsd realserver teardown`

const realserverSetupHelp = `
Put each VIP on lo as /32 (/128 for IPv6) in DR mode, or on tunl0 in TUN mode (loading the
ipip module and setting tunl0 up); set arp_ignore=1 and arp_announce=2 on "all" and on the
interfaces carrying the real IP, so that only the director answers ARP for the VIP; in TUN
mode also rp_filter=0 on "all" and tunl0, as the unwrapped packets arrive there from
clients routed elsewhere. The settings change before any VIP appears.

Idempotent: what is already right is left alone. What it changes, and the values it
replaces, are recorded in the state file for teardown.`

const realserverTeardownHelp = `
Undo exactly what setup recorded: remove the VIPs it added (an address that was there
before setup is kept), set down a tunl0 it set up, and put back the values it replaced
(the ipip module stays loaded). With --vip, only those VIPs are removed; the settings come
back with the last one. Idempotent.`

const realserverCheckHelp = `
Report what setup would fix, one line per finding with its fix, and for each --port
whether a TCP service would accept connections for the VIP: it must listen on all
addresses (0.0.0.0, [::]) or on the VIP. A service bound to the real IP only does not
accept the packets the director forwards (connections fail or hang half-open).
Exit 0 when nothing is missing, 1 with findings.`

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

var _ flag.Value = (*listFlag)(nil)

func cmdRealserver(args []string, stdout, stderr io.Writer) int {
	return runSubcommands("realserver", realserverHelp, []subcommand{
		{"setup", "put the VIPs on lo (DR) or tunl0 (TUN) and set the ARP and rp_filter settings", realserverSetup},
		{"teardown", "undo exactly what setup changed", realserverTeardown},
		{"check", "report what is missing, and whether services listen on the VIP", realserverCheck},
	}, args, stdout, stderr)
}

// realserverCmd is the flags the subcommands share.
type realserverCmd struct {
	fs                 *flag.FlagSet
	vips, ports, ifcs  listFlag
	mode, state        *string
	modprobe           *bool
	stdout, stderr     io.Writer
	opts               realserver.Options
	needVIP, withPorts bool
}

func newRealserverCmd(name, help string, stdout, stderr io.Writer) *realserverCmd {
	c := &realserverCmd{stdout: stdout, stderr: stderr, needVIP: name != "teardown"}
	c.fs = newFlagSet("realserver "+name, "", help, stderr)
	vipHelp := "virtual IP address served by this host (repeatable; required)"
	if !c.needVIP {
		vipHelp = "remove only this VIP (repeatable; default: everything setup added)"
	}
	c.fs.Var(&c.vips, "vip", vipHelp)
	if c.needVIP {
		c.fs.Var(&c.ifcs, "interface", "interface carrying the real IP (repeatable; default: every interface that is up with an IPv4 address)")
		c.mode = c.fs.String("mode", "dr", "forwarding method of the virtual server: dr or tun")
	}
	c.state = c.fs.String("state", realserver.DefaultStateFile, "where setup records what it changed, for teardown")
	switch name {
	case "setup":
		c.modprobe = c.fs.Bool("modprobe", true, "in TUN mode, load the ipip module when tunl0 is missing")
	case "check":
		c.withPorts = true
		c.fs.Var(&c.ports, "port", "TCP port the service listens on (repeatable)")
	}
	return c
}

// parse parses and validates; ok false means return code.
func (c *realserverCmd) parse(args []string) (int, bool) {
	if code, ok := parseFlags(c.fs, args, c.stdout); !ok {
		return code, false
	}
	if !noArgs(c.fs, c.stderr) {
		return exitUsage, false
	}
	mode := "dr"
	if c.mode != nil {
		mode = *c.mode
	}
	o, err := realserverOptions(c.vips, c.ports, c.ifcs, mode)
	if err == nil && c.needVIP {
		err = o.Validate()
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "lvsd %s: %v\nRun 'lvsd %s --help' for usage.\n", c.fs.Name()[len("lvsd "):], err, c.fs.Name()[len("lvsd "):])
		return exitUsage, false
	}
	c.opts = o
	return 0, true
}

func realserverSetup(args []string, stdout, stderr io.Writer) int {
	c := newRealserverCmd("setup", realserverSetupHelp, stdout, stderr)
	if code, ok := c.parse(args); !ok {
		return code
	}
	if err := realserver.Setup(realserver.Kernel{}, c.opts, *c.state, *c.modprobe, stdout); err != nil {
		fmt.Fprintf(stderr, "lvsd realserver setup: %v\n", err)
		return exitFail
	}
	return exitOK
}

func realserverTeardown(args []string, stdout, stderr io.Writer) int {
	c := newRealserverCmd("teardown", realserverTeardownHelp, stdout, stderr)
	if code, ok := c.parse(args); !ok {
		return code
	}
	if err := realserver.Teardown(realserver.Kernel{}, c.opts.VIPs, *c.state, stdout); err != nil {
		fmt.Fprintf(stderr, "lvsd realserver teardown: %v\n", err)
		return exitFail
	}
	return exitOK
}

func realserverCheck(args []string, stdout, stderr io.Writer) int {
	c := newRealserverCmd("check", realserverCheckHelp, stdout, stderr)
	if code, ok := c.parse(args); !ok {
		return code
	}
	findings, err := realserver.CheckHost(realserver.Kernel{}, c.opts)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd realserver check: %v\n", err)
		return exitFail
	}
	return printFindings(stdout, findings, "ok: nothing missing")
}

func realserverOptions(vips, ports, ifaces []string, mode string) (realserver.Options, error) {
	m, err := realserver.ParseMode(mode)
	if err != nil {
		return realserver.Options{}, err
	}
	o := realserver.Options{Mode: m, Interfaces: ifaces}
	for _, v := range vips {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return o, fmt.Errorf("--vip %q: not an IP address", v)
		}
		o.VIPs = append(o.VIPs, a.Unmap())
	}
	for _, p := range ports {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return o, fmt.Errorf("--port %q: not a port number (1-65535)", p)
		}
		o.Ports = append(o.Ports, uint16(n))
	}
	return o, nil
}

// printFindings prints one line per finding and a count (exit 1), or okLine (exit 0).
func printFindings[F fmt.Stringer](w io.Writer, findings []F, okLine string) int {
	for _, f := range findings {
		fmt.Fprintln(w, f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(w, "%d findings\n", len(findings))
		return exitFail
	}
	fmt.Fprintln(w, okLine)
	return exitOK
}
