package config

import (
	"slices"
	"strings"
)

// keepalived's keywords that lvsd does not implement, with what they do. They serve two
// readers: a keepalived keyword written into an HCL file gets "not supported by lvsd"
// instead of a misleading "did you mean", and `lvsd convert` refuses them. Keywords that
// have no effect in lvsd (mail, SNMP, process tuning) are not here: the converter drops them.
var keepalivedOnly = map[string]string{
	"use_vmac":                   "VRRP virtual MAC interfaces",
	"vmac_xmit_base":             "VRRP virtual MAC interfaces",
	"use_ipvlan":                 "ipvlan interfaces",
	"native_ipv6":                "native_ipv6 instances",
	"dont_track_primary":         "an instance always tracks its interface",
	"virtual_routes":             "routes added with the VRRP state",
	"virtual_rules":              "policy routing rules added with the VRRP state",
	"static_ipaddress":           "static addresses",
	"static_routes":              "static routes",
	"static_rules":               "static routing rules",
	"track_process":              "process tracking",
	"vrrp_track_process":         "process tracking",
	"track_bfd":                  "BFD tracking",
	"bfd_instance":               "BFD",
	"BFD_CHECK":                  "BFD checks",
	"SMTP_CHECK":                 "SMTP checks",
	"DNS_CHECK":                  "DNS checks",
	"UDP_CHECK":                  "UDP checks",
	"PING_CHECK":                 "ICMP checks",
	"FILE_CHECK":                 "file checks",
	"track_src_ip":               "a source address taken from the VIPs",
	"unicast_ttl":                "a unicast TTL other than 255",
	"check_unicast_src":          "checking unicast sources against the peers",
	"vrrp_check_unicast_src":     "checking unicast sources against the peers",
	"unicast_fault_no_peer":      "FAULT without unicast peers",
	"notify_master_rx_lower_pri": "a notify script for lower-priority adverts",
	"notify_deleted":             "notify scripts for deleted instances",
	"notify_priority_changes":    "notifying priority changes",
	"lower_prio_no_advert":       "not answering lower-priority adverts",
	"higher_prio_send_advert":    "answering higher-priority adverts",
	"owner_ignore_adverts":       "an address owner that ignores adverts",
	"mcast_dst_ip":               "a multicast group other than 224.0.0.18",
	"vrrp_mcast_group4":          "a multicast group other than 224.0.0.18",
	"vrrp_mcast_group6":          "a multicast group other than ff02::12",
	"promote_secondaries":        "promote_secondaries on the interface",
	"garp_group":                 "gratuitous ARP groups",
	"garp_extra_if":              "gratuitous ARPs on other interfaces",
	"vrrp_garp_extra_if":         "gratuitous ARPs on other interfaces",
	"garp_lower_prio_delay":      "a delay before lower-priority gratuitous ARPs",
	"garp_master_refresh_repeat": "more than one gratuitous ARP per refresh",
	"garp_interval":              "a pause between gratuitous ARPs",
	"gna_interval":               "a pause between unsolicited neighbour adverts",
	"vrrp_garp_interval":         "a pause between gratuitous ARPs",
	"vrrp_gna_interval":          "a pause between unsolicited neighbour adverts",
	"net_namespace":              "running in another network namespace (start lvsd there instead)",
	"net_namespace_ipvs":         "IPVS in another network namespace",
	"sorry_server_inhibit":       "an inhibited sorry server",
	"sorry_server_lvs_method":    "a forwarding method of its own for the sorry server",
	"persistence_engine":         "IPVS persistence engines",
	"omega":                      "running quorum_down at shutdown",
	"quorum_max":                 "an upper quorum",
	"bind_port":                  "a fixed source port for checks",
	"bind_if":                    "checks bound to an interface",
	"regex":                      "matching HTTP bodies with a regular expression",
	"http_protocol":              "an HTTP version other than lvsd's",
	"sni_name":                   "an SNI name other than the virtual host",
	"tls_compliant":              "TLS compliance mode",
	"notify_fifo":                "notify FIFOs (use notify scripts)",
	"vrrp_notify_fifo":           "notify FIFOs (use notify scripts)",
	"lvs_notify_fifo":            "notify FIFOs (use notify scripts)",
	"notify_fifo_script":         "notify FIFOs (use notify scripts)",
	"vrrp_notify_fifo_script":    "notify FIFOs (use notify scripts)",
	"lvs_notify_fifo_script":     "notify FIFOs (use notify scripts)",
	"startup_script":             "start-up scripts (use a systemd ExecStartPre)",
	"shutdown_script":            "shutdown scripts (use a systemd ExecStopPost)",
	"default_interface":          "a default interface for static addresses",
	"lvs_timeouts":               "IPVS connection timeouts (set them with ipvsadm --set)",
	"vrf":                        "VRFs",
	"linkbeat_interfaces":        "linkbeat polling",
	"track_group":                "tracking groups",
	"sync_group_tracking_weight": "weighted tracking in sync groups",
	"auth_hmac":                  "HMAC authentication",
	"init_file":                  "a track file created at start-up",
	"vrrp_track_file_init":       "a track file created at start-up",
	"min_auto_priority_delay":    "real-time priority tuning",
	"vrrp_startup_delay":         "a start-up delay",
	"vrrp_delay_after_boot":      "a start-up delay",
}

// KeepalivedUnsupported reports whether name is a keepalived keyword that lvsd does not
// implement, and what it does.
func KeepalivedUnsupported(name string) (string, bool) {
	why, ok := keepalivedOnly[name]
	return why, ok
}

// KeepalivedUnsupportedKeywords lists the keepalived keywords lvsd does not implement.
func KeepalivedUnsupportedKeywords() []string {
	out := make([]string, 0, len(keepalivedOnly))
	for k := range keepalivedOnly {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Known reports whether lvsd's schema has an attribute or block called name inside the
// block path (block types from the top level, e.g. ["virtual_server", "real_server"];
// empty for the top level).
func Known(path []string, name string) bool {
	sch := topSchema
	for _, p := range path {
		next, ok := sch.blocks[p]
		if !ok {
			return false
		}
		sch = next
	}
	_, isBlock := sch.blocks[name]
	return isBlock || slices.Contains(sch.attrs, name)
}

// keepalivedNotSupported is the suffix of an unknown-keyword message for a keepalived
// keyword lvsd lacks, or "".
func keepalivedNotSupported(name string) string {
	if why, ok := keepalivedOnly[name]; ok {
		return ": a keepalived keyword not supported by lvsd (" + why + ")"
	}
	return ""
}

// keepalivedStarts are first words of lines only a keepalived.conf has: a block keyword
// followed by an unquoted name, or keywords with no HCL equivalent at all.
var keepalivedStarts = []string{"global_defs", "vrrp_instance", "virtual_server", "vrrp_script",
	"vrrp_sync_group", "virtual_server_group", "vrrp_track_file", "static_ipaddress"}

// LooksLikeKeepalived reports whether src is keepalived syntax rather than HCL: a line that
// starts a keepalived block the way only keepalived writes it (`vrrp_instance VI_1 {`,
// `virtual_server 10.0.0.1 80 {`, `global_defs {`). It is only asked once HCL parsing has
// failed, so that an HCL file with a typo is never mistaken for one.
func LooksLikeKeepalived(src []byte) bool {
	for line := range strings.SplitSeq(string(src), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !slices.Contains(keepalivedStarts, f[0]) {
			continue
		}
		if f[0] == "global_defs" {
			return len(f) == 1 || f[1] == "{"
		}
		if len(f) >= 2 && f[1] != "=" && f[1] != "{" && !strings.HasPrefix(f[1], `"`) {
			return true
		}
	}
	return false
}

// keepalivedSyntax starts the one diagnostic given for a keepalived.conf.
const keepalivedSyntax = "this looks like a keepalived.conf, not lvsd's HCL: convert it with `lvsd convert "

// IsKeepalivedSyntax reports whether d is the diagnostic for a file in keepalived's syntax
// (the only problem reported for it: its HCL errors would be noise).
func (d Diagnostic) IsKeepalivedSyntax() bool { return strings.HasPrefix(d.Message, keepalivedSyntax) }
