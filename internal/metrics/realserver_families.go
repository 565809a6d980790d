package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/internal/daemon"
)

// realServerFamily is one per-real-server metric family. Both the Collector (through
// client_golang) and the handler's direct text writer read this one table, so the two can
// never disagree on a name, HELP text, type or value.
type realServerFamily struct {
	name, help string
	typ        prometheus.ValueType
	// value is the real server's sample; false when it has none (no kernel counters yet).
	value func(rs daemon.RealServerStatus) (float64, bool)
}

const (
	checkDurationName = "lvsd_healthcheck_duration_seconds"
	checkDurationHelp = "How long the real server's health checks took."
)

func always(f func(rs daemon.RealServerStatus) float64) func(daemon.RealServerStatus) (float64, bool) {
	return func(rs daemon.RealServerStatus) (float64, bool) { return f(rs), true }
}

func kernel(f func(k *daemon.KernelCounters) uint64) func(daemon.RealServerStatus) (float64, bool) {
	return func(rs daemon.RealServerStatus) (float64, bool) {
		if rs.Kernel == nil {
			return 0, false
		}
		return float64(f(rs.Kernel)), true
	}
}

var realServerFamilies = []realServerFamily{
	{"lvsd_real_server_up", "1 when the real server's health checks pass.", prometheus.GaugeValue,
		always(func(rs daemon.RealServerStatus) float64 { return boolValue(rs.Healthy) })},
	{"lvsd_real_server_weight", "Weight of the real server in IPVS (0 when removed or inhibited).", prometheus.GaugeValue,
		always(func(rs daemon.RealServerStatus) float64 { return float64(rs.Weight) })},
	{"lvsd_real_server_check_failures", "Consecutive failed health checks.", prometheus.GaugeValue,
		always(func(rs daemon.RealServerStatus) float64 { return float64(rs.Failures) })},
	{"lvsd_real_server_active_connections", "Active connections in the kernel (ipvsadm ActiveConn).", prometheus.GaugeValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.ActiveConns) })},
	{"lvsd_real_server_inactive_connections", "Inactive connections in the kernel (ipvsadm InActConn).", prometheus.GaugeValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.InactiveConns) })},
	{"lvsd_real_server_connections_total", "Connections scheduled to the real server by the kernel.", prometheus.CounterValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.Conns) })},
	{"lvsd_real_server_incoming_packets_total", "Packets from clients to the real server, counted by the kernel.", prometheus.CounterValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.InPackets) })},
	{"lvsd_real_server_outgoing_packets_total", "Packets from the real server to clients through the director (NAT only).", prometheus.CounterValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.OutPackets) })},
	{"lvsd_real_server_incoming_bytes_total", "Bytes from clients to the real server, counted by the kernel.", prometheus.CounterValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.InBytes) })},
	{"lvsd_real_server_outgoing_bytes_total", "Bytes from the real server to clients through the director (NAT only).", prometheus.CounterValue,
		kernel(func(k *daemon.KernelCounters) uint64 { return uint64(k.OutBytes) })},
}

func realServerDescs() []*prometheus.Desc {
	out := make([]*prometheus.Desc, len(realServerFamilies))
	for i, f := range realServerFamilies {
		out[i] = desc(f.name, f.help, rsLabels...)
	}
	return out
}
