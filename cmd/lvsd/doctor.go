package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lvsd/lvsd/internal/doctor"
)

const doctorHelp = `
Check what the configuration needs of this host (a director) and print one line per
finding, with its fix. Nothing is changed. Checked:

  - interfaces named by the config exist and are up;
  - net.ipv4.ip_forward=1 for LVS-NAT; send_redirects=0 (all, default, the director's
    interfaces) for LVS-DR; for a VIP on lo (LVS-DR across segments) arp_ignore=0 and no
    strict rp_filter on the VRRP interface;
  - IPVS and each lb_algo's scheduler are available for the running kernel;
  - the firewall (iptables-save, ip6tables-save and nft list ruleset of this network
    namespace) lets VRRP (IP protocol 112, to 224.0.0.18 or ff02::12 unless unicast_peer
    is set) in;
  - no other host answers ARP for a VIP that is not on this host (a short ARP probe);
  - when lvsd runs (control socket): no instance in FAULT, and each BACKUP hears adverts.

Exit status: 0 nothing found; 1 findings (or an invalid configuration); 2 usage error.`

func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("doctor", "", doctorHelp, stderr)
	path := fs.String("config", "", "configuration file or directory of *.hcl files (required)")
	socket := fs.String("socket", "", "control socket of a running lvsd (default: the config's global.control_socket)")
	arpTimeout := fs.Duration("arp-timeout", 500*time.Millisecond, "how long to wait for an answer to each VIP's ARP probe")
	window := fs.Duration("peer-window", 3*time.Second, "how long to count a running BACKUP's received adverts")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) || !requireFlag(fs, "config", *path, stderr) {
		return exitUsage
	}
	cfg, ok := loadConfig(*path, stderr, nil)
	if !ok {
		return exitFail
	}
	sock := *socket
	if sock == "" {
		sock = cfg.Global.ControlSocket
	}
	needs := doctor.NeedsOf(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	facts, err := doctor.Gather(ctx, doctor.Host{}, doctor.Host{}, doctor.Socket(sock), needs,
		doctor.Options{ARPTimeout: *arpTimeout, PeerWindow: *window})
	if err != nil {
		fmt.Fprintf(stderr, "lvsd doctor: %v\n", err)
		return exitFail
	}
	if facts.Daemon == nil {
		fmt.Fprintf(stdout, "note: no lvsd answers on %s: VRRP peer checks skipped\n", sock)
	}
	return printFindings(stdout, doctor.Check(needs, facts), "ok: nothing found")
}
