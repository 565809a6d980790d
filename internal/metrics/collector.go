// Package metrics exports the daemon's status as Prometheus metrics. The collector takes a
// snapshot (the same one `lvsd status --json` serves) at each scrape, so the metrics can
// never disagree with the status and the daemon keeps no second set of counters.
// docs/metrics.md lists every metric with its keepalived-exporter equivalent.
package metrics

import (
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

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

// Collector turns a status snapshot into metrics. On its own it produces every family
// through client_golang, the reference the tests compare the handler's faster output with.
type Collector struct {
	status func() daemon.Status
	// realServersElsewhere leaves the per-real-server families out of Collect: the handler
	// writes them straight to the text exposition (realserver_text.go).
	realServersElsewhere bool

	info, started *prometheus.Desc

	vrrpState, vrrpPriority, vrrpEffective, vrrpSent, vrrpReceived *prometheus.Desc
	vrrpBecame, vrrpReleased, vrrpTransitions, vrrpDropped         *prometheus.Desc
	vrrpErrors, vrrpMismatch                                       *prometheus.Desc
	vrrpInfo                                                       *prometheus.Desc
	scriptUp, scriptRuns                                           *prometheus.Desc

	vsQuorum, vsSorry                                    *prometheus.Desc
	realServer                                           []*prometheus.Desc // as realServerFamilies
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
		realServer:    realServerDescs(),
		checkDuration: desc(checkDurationName, checkDurationHelp, rsLabels...),

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
		c.vsQuorum, c.vsSorry, c.checkDuration,
		c.recDuration, c.recLast, c.recOps, c.recFailed, c.recError, c.recRepairs, c.ownedServices,
		c.reloadOK, c.reloadSuccessTime, c.reloads, c.reloadFailures,
	} {
		ch <- d
	}
	for _, d := range c.realServer {
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
		c.collectVirtualServer(ch, vs, gauge)
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

func (c *Collector) collectVirtualServer(ch chan<- prometheus.Metric, vs daemon.VirtualServerStatus, gauge sendFunc) {
	local := []string{vs.Address, "", vs.Protocol, ""}
	if vs.FWMark != 0 {
		local[3] = strconv.FormatUint(uint64(vs.FWMark), 10)
	} else {
		local[1] = strconv.Itoa(vs.Port)
	}
	gauge(c.vsQuorum, boolValue(vs.QuorumUp), local...)
	gauge(c.vsSorry, boolValue(vs.SorryActive), local...)
	if c.realServersElsewhere {
		return
	}
	for _, rs := range vs.RealServers {
		host, port := splitAddress(rs.Address)
		l := []string{local[0], local[1], host, port, local[2], local[3]}
		for i, f := range realServerFamilies {
			if v, ok := f.value(rs); ok {
				ch <- prometheus.MustNewConstMetric(c.realServer[i], f.typ, v, l...)
			}
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
