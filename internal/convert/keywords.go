package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/zclconf/go-cty/cty"
)

// Unsupported reports whether key is a keepalived keyword lvsd lacks, and what it does.
func Unsupported(key string) (string, bool) { return config.KeepalivedUnsupported(key) }

// dropped are keepalived keywords with no effect on what lvsd does (mail, SNMP, process
// tuning, diagnostics): the converter writes a comment and a warning saying what to use
// instead.
var dropped = map[string]string{
	"notification_email":                      "lvsd sends no mail; use notify scripts",
	"notification_email_from":                 "lvsd sends no mail; use notify scripts",
	"smtp_server":                             "lvsd sends no mail; use notify scripts",
	"smtp_connect_timeout":                    "lvsd sends no mail; use notify scripts",
	"smtp_helo_name":                          "lvsd sends no mail; use notify scripts",
	"smtp_alert":                              "lvsd sends no mail; use notify scripts",
	"smtp_alert_vrrp":                         "lvsd sends no mail; use notify scripts",
	"smtp_alert_checker":                      "lvsd sends no mail; use notify scripts",
	"no_email_faults":                         "lvsd sends no mail; use notify scripts",
	"no_checker_emails":                       "lvsd sends no mail; use notify scripts",
	"email_faults":                            "lvsd sends no mail; use notify scripts",
	"enable_traps":                            "lvsd has no SNMP; use its Prometheus metrics",
	"enable_snmp_vrrp":                        "lvsd has no SNMP; use its Prometheus metrics",
	"enable_snmp_keepalived":                  "lvsd has no SNMP; use its Prometheus metrics",
	"enable_snmp_checker":                     "lvsd has no SNMP; use its Prometheus metrics",
	"enable_snmp_rfc":                         "lvsd has no SNMP; use its Prometheus metrics",
	"enable_snmp_rfcv2":                       "lvsd has no SNMP; use its Prometheus metrics",
	"enable_snmp_rfcv3":                       "lvsd has no SNMP; use its Prometheus metrics",
	"snmp_socket":                             "lvsd has no SNMP; use its Prometheus metrics",
	"enable_dbus":                             "lvsd has no D-Bus interface; use lvsd status --json",
	"dbus_service_name":                       "lvsd has no D-Bus interface; use lvsd status --json",
	"lvs_id":                                  "an old name of router_id that keepalived 2 ignores",
	"nat_mask":                                "keepalived ignores it (the kernel does not use it)",
	"debug":                                   "use lvsd run --log-level debug",
	"log_all_failures":                        "lvsd logs every check failure",
	"checker_log_all_failures":                "lvsd logs every check failure",
	"log_unknown_vrids":                       "lvsd counts adverts of unknown VRIDs in its metrics",
	"vrrp_no_swap":                            "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"checker_no_swap":                         "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"bfd_no_swap":                             "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"vrrp_priority":                           "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"checker_priority":                        "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"bfd_priority":                            "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"vrrp_rt_priority":                        "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"checker_rt_priority":                     "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"bfd_rt_priority":                         "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"vrrp_cpu_affinity":                       "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"checker_cpu_affinity":                    "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"bfd_cpu_affinity":                        "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"vrrp_rlimit_rtime":                       "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"checker_rlimit_rtime":                    "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"bfd_rlimit_rtime":                        "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"vrrp_rlimit_rttime":                      "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"checker_rlimit_rttime":                   "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"bfd_rlimit_rttime":                       "process tuning; use systemd (MemoryLock=, Nice=, CPUAffinity=)",
	"vrrp_process_name":                       "lvsd is one process",
	"checker_process_name":                    "lvsd is one process",
	"bfd_process_name":                        "lvsd is one process",
	"lvs_process_name":                        "lvsd is one process",
	"process_names":                           "lvsd is one process",
	"process_name":                            "lvsd is one process",
	"vrrp_netlink_cmd_rcv_bufs":               "netlink buffer tuning; lvsd sizes its own",
	"vrrp_netlink_monitor_rcv_bufs":           "netlink buffer tuning; lvsd sizes its own",
	"vrrp_netlink_cmd_rcv_bufs_force":         "netlink buffer tuning; lvsd sizes its own",
	"vrrp_netlink_monitor_rcv_bufs_force":     "netlink buffer tuning; lvsd sizes its own",
	"lvs_netlink_cmd_rcv_bufs":                "netlink buffer tuning; lvsd sizes its own",
	"lvs_netlink_monitor_rcv_bufs":            "netlink buffer tuning; lvsd sizes its own",
	"lvs_netlink_cmd_rcv_bufs_force":          "netlink buffer tuning; lvsd sizes its own",
	"lvs_netlink_monitor_rcv_bufs_force":      "netlink buffer tuning; lvsd sizes its own",
	"process_monitor_rcv_bufs":                "netlink buffer tuning; lvsd sizes its own",
	"process_monitor_rcv_bufs_force":          "netlink buffer tuning; lvsd sizes its own",
	"vrrp_rx_bufs_policy":                     "socket buffer tuning; lvsd sizes its own",
	"vrrp_rx_bufs_multiplier":                 "socket buffer tuning; lvsd sizes its own",
	"kernel_rx_buf_size":                      "socket buffer tuning; lvsd sizes its own",
	"state_dump_file":                         "use lvsd status --json",
	"stats_dump_file":                         "use lvsd status --json and the metrics",
	"json_version":                            "use lvsd status --json",
	"json_dump_file":                          "use lvsd status --json",
	"data_use_instance":                       "use lvsd status --json",
	"tmp_config_directory":                    "lvsd needs no temporary configuration directory",
	"config_save_dir":                         "lvsd needs no saved configuration directory",
	"use_pid_dir":                             "run lvsd under systemd, which tracks its PID",
	"use_symlink_paths":                       "lvsd resolves paths itself",
	"umask":                                   "set UMask= in the systemd unit",
	"child_wait_time":                         "lvsd stops its scripts itself",
	"fork_delay":                              "lvsd does not fork",
	"random_seed":                             "only for keepalived's ${_RANDOM}",
	"include_check":                           "applies to keepalived's reading of includes only",
	"reload_check_config":                     "use lvsd plan / lvsd validate before a reload",
	"reload_time_file":                        "reload with lvsd reload or SIGHUP",
	"reload_repeat":                           "reload with lvsd reload or SIGHUP",
	"reload_file":                             "reload with lvsd reload or SIGHUP",
	"iproute_usr_dir":                         "lvsd does not read iproute2's tables",
	"iproute_etc_dir":                         "lvsd does not read iproute2's tables",
	"vrrp_skip_check_adv_addr":                "lvsd does not compare an advert's address list with its own",
	"skip_check_adv_addr":                     "lvsd does not compare an advert's address list with its own",
	"vrrp_iptables":                           "lvsd installs no firewall rules for the VIPs",
	"vrrp_ipsets":                             "lvsd installs no firewall rules for the VIPs",
	"nftables":                                "lvsd installs no firewall rules for the VIPs",
	"nftables_priority":                       "lvsd installs no firewall rules for the VIPs",
	"nftables_ifindex":                        "lvsd installs no firewall rules for the VIPs",
	"nftables_counters":                       "lvsd installs no firewall rules for the VIPs",
	"dynamic_interfaces":                      "lvsd reports a missing interface at start",
	"linkbeat_use_polling":                    "lvsd follows links over netlink",
	"lvs_flush":                               "lvsd never flushes IPVS: it removes exactly the services it owns",
	"lvs_flush_onstop":                        "lvsd removes the services it owns on stop (global keep_ipvs_on_stop = true keeps them)",
	"lvs_flush_on_stop":                       "lvsd removes the services it owns on stop (global keep_ipvs_on_stop = true keeps them)",
	"vrrp_version_strict":                     "lvsd installs no firewall rules",
	"global_tracking":                         "deprecated in keepalived; lvsd's sync group members track what they track",
	"ha_suspend":                              "lvsd checks real servers on both directors (checks keep running on the backup)",
	"max_auto_priority":                       "process tuning; use systemd (CPUSchedulingPolicy=)",
	"mcast_src_ip":                            "lvsd sends multicast adverts from the interface's primary address",
	"vrrp_min_garp":                           "lvsd sends its own gratuitous ARP pattern (garp_master_delay, garp_master_repeat)",
	"vrrp_version_check":                      "no effect",
	"rs_init_notifies":                        "lvsd runs notify scripts on state changes only",
	"snmp_rs_stats_update_interval":           "lvsd has no SNMP; use its Prometheus metrics",
	"snmp_vs_stats_update_interval":           "lvsd has no SNMP; use its Prometheus metrics",
	"thread_timer_expired":                    "no effect",
	"timer_expired_backup":                    "no effect",
	"notify_fifo_write_vrrp_states_on_reload": "no effect",
	"fifo_write_vrrp_states_on_reload":        "notify FIFOs are not supported; nothing to write",
	"terminate_delay":                         "lvsd stops its children itself",
	"vrrp_down_timer_adverts":                 "lvsd uses RFC 3768's master down timer",
	"down_timer_adverts":                      "lvsd uses RFC 3768's master down timer",
	"preempt":                                 "keepalived ignores it (preemption is the default)",
	"interface_up_down_delays":                "lvsd reacts to link changes at once",
	"vmac_addr_prefix":                        "no virtual MAC interfaces",
	"vrrp_vmac_garp_intvl":                    "no virtual MAC interfaces",
	"vmac_garp_intvl":                         "no virtual MAC interfaces",
	"vmac_prefix":                             "no virtual MAC interfaces",
	"disable_local_igmp":                      "no effect",
	"namespace_with_ipsets":                   "no effect",
	"instance":                                "no effect",
}

var falseVal = cty.False

// number is a keepalived number as an HCL number: integers stay integers.
func number(s string) (cty.Value, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return cty.NumberIntVal(i), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXnN") {
		return cty.NumberFloatVal(f), true
	}
	return cty.NilVal, false
}

// boolArg reads keepalived's optional <BOOL> after a flag keyword (no argument: true).
func boolArg(n *Node) (bool, error) {
	switch strings.ToLower(n.Arg(0)) {
	case "", "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("want on|off|true|false|yes|no, got %q", n.Arg(0))
}

// script is the command of a script keyword as keepalived reads it: the line is split
// with quotes grouping words, the first word after the keyword is the command (lvsd splits
// it into argv keepalived's way), and the words after it are a user and a group.
func script(n *Node) (cmd string, userGroup []string) {
	words := splitQuoted(n.Raw)
	if len(words) == 0 {
		return "", nil
	}
	return words[0], words[1:]
}
