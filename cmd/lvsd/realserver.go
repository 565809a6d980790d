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
Prepare this host to be a real server behind LVS directors, undo it, or check it.
ACTION is one of:

  setup     put each VIP on lo as /32 (/128 for IPv6) in DR mode, or on tunl0 in TUN mode
            (loading the ipip module and setting tunl0 up); set arp_ignore=1 and
            arp_announce=2 on "all" and the real-IP interfaces, so that only the director
            answers ARP for the VIP; in TUN mode also rp_filter=0 on "all" and tunl0.
            Settings are changed before any VIP appears. Idempotent: what is already right
            is left alone. The previous values are remembered in the state file.
  teardown  undo exactly what setup did: remove the VIPs it added (an address that was
            there before is kept), set down a tunl0 it set up, and put back the values it
            replaced. With --vip, only those VIPs go; the settings come back with the last.
  check     report what is missing, one line per finding with its fix; with --port, also
            whether a service listens where the director sends the packets (on all
            addresses or on the VIP; a service bound to the real IP only does not accept
            them).

Exit status: 0 done (check: nothing missing); 1 failure (check: findings); 2 usage error.

Example (LVS-DR, web servers on port 80):
  lvsd realserver setup --vip 192.0.2.10
  lvsd realserver check --vip 192.0.2.10 --port 80
  lvsd realserver teardown`

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdRealserver(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("realserver", " setup|teardown|check", realserverHelp, stderr)
	var vips, ports, ifaces listFlag
	fs.Var(&vips, "vip", "virtual IP address served by this host (repeatable; required for setup and check)")
	fs.Var(&ports, "port", "check: TCP port the service listens on (repeatable)")
	fs.Var(&ifaces, "interface", "interface carrying the real IP (repeatable; default: every interface that is up with an IPv4 address)")
	mode := fs.String("mode", "dr", "forwarding method of the virtual server: dr or tun")
	state := fs.String("state", realserver.DefaultStateFile, "where setup records what it changed, for teardown")
	modprobe := fs.Bool("modprobe", true, "setup in TUN mode: load the ipip module when tunl0 is missing")
	action := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if action == "" && fs.NArg() > 0 { // flags before the action
		action = fs.Arg(0)
		if code, ok := parseFlags(fs, fs.Args()[1:], stdout); !ok {
			return code
		}
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "lvsd realserver: "+format+"\nRun 'lvsd realserver --help' for usage.\n", a...)
		return exitUsage
	}
	o, err := realserverOptions(vips, ports, ifaces, *mode)
	if err != nil {
		return usageErr("%v", err)
	}
	k := realserver.Kernel{}
	switch action {
	case "setup":
		if err := o.Validate(); err != nil {
			return usageErr("%v", err)
		}
		if err := realserver.Setup(k, o, *state, *modprobe, stdout); err != nil {
			fmt.Fprintf(stderr, "lvsd realserver setup: %v\n", err)
			return exitFail
		}
	case "teardown":
		if err := realserver.Teardown(k, o.VIPs, *state, stdout); err != nil {
			fmt.Fprintf(stderr, "lvsd realserver teardown: %v\n", err)
			return exitFail
		}
	case "check":
		if err := o.Validate(); err != nil {
			return usageErr("%v", err)
		}
		findings, err := realserver.CheckHost(k, o)
		if err != nil {
			fmt.Fprintf(stderr, "lvsd realserver check: %v\n", err)
			return exitFail
		}
		return printFindings(stdout, findings, "ok: nothing missing")
	case "":
		return usageErr("missing ACTION: setup, teardown or check")
	default:
		return usageErr("unknown ACTION %q: use setup, teardown or check", action)
	}
	return exitOK
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

var _ flag.Value = (*listFlag)(nil)

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
