// Package metrics exports the daemon's status as Prometheus metrics. The collector takes a
// snapshot (the same one `lvsd status --json` serves) at each scrape, so the metrics can
// never disagree with the status and the daemon keeps no second set of counters.
// docs/metrics.md lists every metric with its keepalived-exporter equivalent.
package metrics

import (
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/daemon"
)

// VRRP state values, as keepalived-exporter's keepalived_vrrp_state, so its dashboards and
// alerts port over.
var stateValue = map[string]float64{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}

var (
	vrrpLabels = []string{"instance", "interface", "vrid"}
	// The labels of node_exporter's IPVS collector (node_ipvs_backend_*), so queries join.
	rsLabels = []string{"local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"}
	vsLabels = []string{"local_address", "local_port", "proto", "local_mark"}
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Collector turns a status snapshot into metrics.
type Collector struct {
	status func() daemon.Status

	info, started *prometheus.Desc

	vrrpState, vrrpPriority, vrrpEffective, vrrpSent, vrrpReceived *prometheus.Desc
	vrrpBecame, vrrpReleased, vrrpTransitions, vrrpDropped         *prometheus.Desc
	vrrpErrors, vrrpMismatch                                       *prometheus.Desc
	vrrpInfo                                                       *prometheus.Desc
	scriptUp, scriptRuns                                           *prometheus.Desc

	vsQuorum, vsSorry                                    *prometheus.Desc
	rsUp, rsWeight, rsFailures, rsActive, rsInactive     *prometheus.Desc
	rsConns, rsInPkts, rsOutPkts, rsInBytes, rsOutBytes  *prometheus.Desc
	checkDuration                                        *prometheus.Desc
	recDuration, recLast, recOps, recFailed, recRepairs  *prometheus.Desc
	ownedServices, recError                              *prometheus.Desc
	reloadOK, reloadSuccessTime, reloads, reloadFailures *prometheus.Desc
}

// NewCollector returns a Collector over status, which must be safe to call concurrently.
func NewCollector(status func() daemon.Status) *Collector {
	return &Collector{
		status:  status,
		info:    desc("lvsd_build_info", "Always 1; the version and router_id of this lvsd as labels.", "version", "router_id"),
		started: desc("lvsd_start_time_seconds", "When the daemon started, in seconds since the Unix epoch."),

		vrrpState:       desc("lvsd_vrrp_state", "VRRP state of the instance: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.", vrrpLabels...),
		vrrpPriority:    desc("lvsd_vrrp_priority", "Configured VRRP priority.", vrrpLabels...),
		vrrpEffective:   desc("lvsd_vrrp_effective_priority", "Priority advertised now (configured priority adjusted by tracking).", vrrpLabels...),
		vrrpSent:        desc("lvsd_vrrp_adverts_sent_total", "VRRP advertisements sent.", vrrpLabels...),
		vrrpReceived:    desc("lvsd_vrrp_adverts_received_total", "VRRP advertisements received and accepted.", vrrpLabels...),
		vrrpBecame:      desc("lvsd_vrrp_became_master_total", "Transitions into MASTER.", vrrpLabels...),
		vrrpReleased:    desc("lvsd_vrrp_released_master_total", "Transitions out of MASTER.", vrrpLabels...),
		vrrpTransitions: desc("lvsd_vrrp_transitions_total", "VRRP state transitions.", vrrpLabels...),
		vrrpDropped:     desc("lvsd_vrrp_packets_dropped_total", "VRRP packets discarded, by reason.", append(vrrpLabels, "reason")...),
		vrrpErrors:      desc("lvsd_vrrp_errors_total", "Failed VRRP effects (send, add_vip, remove_vip, garp, recv).", append(vrrpLabels, "kind")...),
		vrrpMismatch:    desc("lvsd_vrrp_address_list_mismatches_total", "Accepted adverts whose VIP list differs from ours.", vrrpLabels...),
		vrrpInfo:        desc("lvsd_vrrp_instance_info", "Always 1; the instance's VRRP version (2 or 3) and address family (inet or inet6) as labels.", append(vrrpLabels, "version", "family")...),

		scriptUp:   desc("lvsd_vrrp_script_up", "1 when the vrrp_script's rise/fall state is OK, 0 when failing or missing (keepalived-exporter: keepalived_script_status).", "script"),
		scriptRuns: desc("lvsd_vrrp_script_runs_total", "Runs of the vrrp_script since start.", "script"),

		vsQuorum:      desc("lvsd_virtual_server_quorum_up", "1 when the virtual server has its quorum of healthy real servers.", vsLabels...),
		vsSorry:       desc("lvsd_virtual_server_sorry_server_active", "1 when the sorry server replaces the real servers.", vsLabels...),
		rsUp:          desc("lvsd_real_server_up", "1 when the real server's health checks pass.", rsLabels...),
		rsWeight:      desc("lvsd_real_server_weight", "Weight of the real server in IPVS (0 when removed or inhibited).", rsLabels...),
		rsFailures:    desc("lvsd_real_server_check_failures", "Consecutive failed health checks.", rsLabels...),
		rsActive:      desc("lvsd_real_server_active_connections", "Active connections in the kernel (ipvsadm ActiveConn).", rsLabels...),
		rsInactive:    desc("lvsd_real_server_inactive_connections", "Inactive connections in the kernel (ipvsadm InActConn).", rsLabels...),
		rsConns:       desc("lvsd_real_server_connections_total", "Connections scheduled to the real server by the kernel.", rsLabels...),
		rsInPkts:      desc("lvsd_real_server_incoming_packets_total", "Packets from clients to the real server, counted by the kernel.", rsLabels...),
		rsOutPkts:     desc("lvsd_real_server_outgoing_packets_total", "Packets from the real server to clients through the director (NAT only).", rsLabels...),
		rsInBytes:     desc("lvsd_real_server_incoming_bytes_total", "Bytes from clients to the real server, counted by the kernel.", rsLabels...),
		rsOutBytes:    desc("lvsd_real_server_outgoing_bytes_total", "Bytes from the real server to clients through the director (NAT only).", rsLabels...),
		checkDuration: desc("lvsd_healthcheck_duration_seconds", "How long the real server's health checks took.", rsLabels...),

		recDuration:   desc("lvsd_ipvs_reconcile_duration_seconds", "How long the last IPVS reconcile pass took.", "backend"),
		recLast:       desc("lvsd_ipvs_reconcile_last_timestamp_seconds", "When the last IPVS reconcile pass finished.", "backend"),
		recOps:        desc("lvsd_ipvs_reconcile_ops", "Operations the last reconcile pass attempted (0: the kernel was in sync).", "backend"),
		recFailed:     desc("lvsd_ipvs_reconcile_failed_ops", "Operations of the last reconcile pass that failed.", "backend"),
		recError:      desc("lvsd_ipvs_reconcile_error", "1 when the last reconcile pass failed.", "backend"),
		recRepairs:    desc("lvsd_ipvs_repairs_total", "IPVS operations applied to the kernel since start (changes and drift repairs).", "backend"),
		ownedServices: desc("lvsd_ipvs_owned_services", "IPVS services lvsd owns.", "backend"),

		reloadOK:          desc("lvsd_config_last_reload_successful", "1 when the last configuration load (start or reload) was applied, 0 when it was refused."),
		reloadSuccessTime: desc("lvsd_config_last_reload_success_timestamp_seconds", "When a configuration was last applied (start or reload), in seconds since the Unix epoch."),
		reloads:           desc("lvsd_config_reloads_total", "Reload attempts (SIGHUP, lvsd reload) since start."),
		reloadFailures:    desc("lvsd_config_reload_failures_total", "Reloads refused since start (the running configuration stayed)."),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.started,
		c.vrrpState, c.vrrpPriority, c.vrrpEffective, c.vrrpSent, c.vrrpReceived, c.vrrpBecame, c.vrrpReleased,
		c.vrrpTransitions, c.vrrpDropped, c.vrrpErrors, c.vrrpMismatch, c.vrrpInfo, c.scriptUp, c.scriptRuns,
		c.vsQuorum, c.vsSorry, c.rsUp, c.rsWeight, c.rsFailures, c.rsActive, c.rsInactive,
		c.rsConns, c.rsInPkts, c.rsOutPkts, c.rsInBytes, c.rsOutBytes, c.checkDuration,
		c.recDuration, c.recLast, c.recOps, c.recFailed, c.recError, c.recRepairs, c.ownedServices,
		c.reloadOK, c.reloadSuccessTime, c.reloads, c.reloadFailures,
	} {
		ch <- d
	}
}

// Collect takes one status snapshot and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(c.info, 1, st.Version, st.RouterID)
	if !st.StartedAt.IsZero() {
		gauge(c.started, float64(st.StartedAt.UnixNano())/1e9)
	}
	if r := st.Config; r != nil {
		gauge(c.reloadOK, boolValue(r.LastReloadSuccessful))
		gauge(c.reloadSuccessTime, float64(r.LastSuccess.UnixNano())/1e9)
		counter(c.reloads, float64(r.Reloads))
		counter(c.reloadFailures, float64(r.FailedReloads))
	}
	for _, v := range st.VRRP {
		l := []string{v.Name, v.Interface, strconv.Itoa(v.VRID)}
		if s, ok := stateValue[v.State]; ok {
			gauge(c.vrrpState, s, l...)
		}
		gauge(c.vrrpPriority, float64(v.Priority), l...)
		gauge(c.vrrpEffective, float64(v.EffectivePriority), l...)
		counter(c.vrrpSent, float64(v.AdvertsSent), l...)
		counter(c.vrrpReceived, float64(v.AdvertsReceived), l...)
		counter(c.vrrpBecame, float64(v.BecameMaster), l...)
		counter(c.vrrpReleased, float64(v.ReleasedMaster), l...)
		counter(c.vrrpTransitions, float64(v.Transitions), l...)
		counter(c.vrrpMismatch, float64(v.AddrMismatches), l...)
		gauge(c.vrrpInfo, 1, append(l, strconv.Itoa(v.Version), v.Family)...)
		for reason, n := range v.Drops {
			counter(c.vrrpDropped, float64(n), append(l, reason)...)
		}
		for kind, n := range v.Errors {
			counter(c.vrrpErrors, float64(n), append(l, kind)...)
		}
	}
	for _, sc := range st.VRRPScripts {
		gauge(c.scriptUp, boolValue(sc.Up), sc.Name)
		counter(c.scriptRuns, float64(sc.Runs), sc.Name)
	}
	for _, vs := range st.VirtualServers {
		c.collectVirtualServer(ch, vs, gauge, counter)
	}
	if r := st.IPVS; r != nil {
		b := r.Backend
		gauge(c.recDuration, r.Took.Seconds(), b)
		if !r.LastReconcile.IsZero() {
			gauge(c.recLast, float64(r.LastReconcile.UnixNano())/1e9, b)
		}
		gauge(c.recOps, float64(r.Ops), b)
		gauge(c.recFailed, float64(r.Failed), b)
		gauge(c.recError, boolValue(r.Error != ""), b)
		counter(c.recRepairs, float64(r.Applied), b)
		gauge(c.ownedServices, float64(r.Owned), b)
	}
}

type sendFunc func(d *prometheus.Desc, v float64, labels ...string)

func (c *Collector) collectVirtualServer(ch chan<- prometheus.Metric, vs daemon.VirtualServerStatus, gauge, counter sendFunc) {
	local := []string{vs.Address, "", vs.Protocol, ""}
	if vs.FWMark != 0 {
		local[3] = strconv.FormatUint(uint64(vs.FWMark), 10)
	} else {
		local[1] = strconv.Itoa(vs.Port)
	}
	gauge(c.vsQuorum, boolValue(vs.QuorumUp), local...)
	gauge(c.vsSorry, boolValue(vs.SorryActive), local...)
	for _, rs := range vs.RealServers {
		host, port := splitAddress(rs.Address)
		l := []string{local[0], local[1], host, port, local[2], local[3]}
		gauge(c.rsUp, boolValue(rs.Healthy), l...)
		gauge(c.rsWeight, float64(rs.Weight), l...)
		gauge(c.rsFailures, float64(rs.Failures), l...)
		if k := rs.Kernel; k != nil {
			gauge(c.rsActive, float64(k.ActiveConns), l...)
			gauge(c.rsInactive, float64(k.InactiveConns), l...)
			counter(c.rsConns, float64(k.Conns), l...)
			counter(c.rsInPkts, float64(k.InPackets), l...)
			counter(c.rsOutPkts, float64(k.OutPackets), l...)
			counter(c.rsInBytes, float64(k.InBytes), l...)
			counter(c.rsOutBytes, float64(k.OutBytes), l...)
		}
		if h := rs.CheckDurations; h.Count > 0 {
			ch <- prometheus.MustNewConstHistogram(c.checkDuration, h.Count, h.Sum, histogramBuckets(h), l...)
		}
	}
}

func histogramBuckets(h healthcheck.Histogram) map[float64]uint64 {
	out := make(map[float64]uint64, len(healthcheck.DurationBuckets))
	for i, le := range healthcheck.DurationBuckets {
		if i < len(h.Buckets) {
			out[le] = h.Buckets[i]
		}
	}
	return out
}

// splitAddress splits "IP:PORT" or "[IPv6]:PORT" into the address and the port.
func splitAddress(s string) (host, port string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return s, ""
	}
	return host, port
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler serves the collector's metrics and the Go runtime and process collectors in
// Prometheus' text (or negotiated) format.
func Handler(status func() daemon.Status) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(status),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
