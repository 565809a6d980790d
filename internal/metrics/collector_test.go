package metrics

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/daemon"
)

func fixedStatus() daemon.Status {
	var h healthcheck.Histogram
	h.Observe(2 * time.Millisecond)
	h.Observe(30 * time.Millisecond)
	h.Observe(20 * time.Second)
	return daemon.Status{
		RouterID: "director-a", Version: "v1.2.3", StartedAt: time.Unix(1700000000, 0),
		VRRPScripts: []daemon.VRRPScriptStatus{
			{Name: "chk_haproxy", Up: true, Runs: 12},
			{Name: "chk_gone", Missing: true},
		},
		VRRP: []daemon.VRRPStatus{{
			Name: "VI_1", State: "MASTER", Priority: 150, EffectivePriority: 140, Interface: "eth0", VRID: 51,
			Version: 2, Family: "inet",
			AdvertsSent: 60, AdvertsReceived: 3, BecameMaster: 2, ReleasedMaster: 1, Transitions: 4,
			Drops:  map[string]uint64{"ttl": 2, "auth": 0},
			Errors: map[string]uint64{"send": 1},
		}, {
			Name: "VI_2", State: "FAULT", Priority: 100, EffectivePriority: 100, Interface: "eth1", VRID: 52,
			Version: 3, Family: "inet6",
		}},
		VirtualServers: []daemon.VirtualServerStatus{{
			Name: "192.0.2.10:80", Address: "192.0.2.10", Port: 80, Protocol: "TCP", QuorumUp: true,
			RealServers: []daemon.RealServerStatus{
				{Address: "198.51.100.1:8080", Weight: 3, Healthy: true, CheckDurations: h,
					Kernel: &daemon.KernelCounters{ActiveConns: 5, InactiveConns: 7, Conns: 100, InPackets: 1000, OutPackets: 900, InBytes: 64000, OutBytes: 1280000}},
				{Address: "198.51.100.2:8080", Weight: 0, Healthy: false, Failures: 3},
			},
		}, {
			Name: "fwmark 7", FWMark: 7, Protocol: "TCP", QuorumUp: false, SorryActive: true,
			RealServers: []daemon.RealServerStatus{{Address: "[2001:db8::5]:80", Weight: 1, Healthy: true}},
		}},
		IPVS: &daemon.IPVSStatus{Backend: "batched", LastReconcile: time.Unix(1700000100, 500000000), Took: 1500 * time.Microsecond,
			Ops: 2, Failed: 1, Error: "add: exists", Owned: 2, Applied: 17},
		Config: &daemon.ConfigStatus{LastReloadSuccessful: false, LastReload: time.Unix(1700000300, 0),
			LastSuccess: time.Unix(1700000200, 0), Reloads: 3, FailedReloads: 1},
	}
}

func TestCollectorFromFixedStatus(t *testing.T) {
	c := NewCollector(fixedStatus)
	const want = `
# HELP lvsd_build_info Always 1; the version and router_id of this lvsd as labels.
# TYPE lvsd_build_info gauge
lvsd_build_info{router_id="director-a",version="v1.2.3"} 1
# HELP lvsd_start_time_seconds When the daemon started, in seconds since the Unix epoch.
# TYPE lvsd_start_time_seconds gauge
lvsd_start_time_seconds 1.7e+09
# HELP lvsd_vrrp_instance_info Always 1; the instance's VRRP version (2 or 3) and address family (inet or inet6) as labels.
# TYPE lvsd_vrrp_instance_info gauge
lvsd_vrrp_instance_info{family="inet",instance="VI_1",interface="eth0",version="2",vrid="51"} 1
lvsd_vrrp_instance_info{family="inet6",instance="VI_2",interface="eth1",version="3",vrid="52"} 1
# HELP lvsd_vrrp_state VRRP state of the instance: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.
# TYPE lvsd_vrrp_state gauge
lvsd_vrrp_state{instance="VI_1",interface="eth0",vrid="51"} 2
lvsd_vrrp_state{instance="VI_2",interface="eth1",vrid="52"} 3
# HELP lvsd_vrrp_priority Configured VRRP priority.
# TYPE lvsd_vrrp_priority gauge
lvsd_vrrp_priority{instance="VI_1",interface="eth0",vrid="51"} 150
lvsd_vrrp_priority{instance="VI_2",interface="eth1",vrid="52"} 100
# HELP lvsd_vrrp_effective_priority Priority advertised now (configured priority adjusted by tracking).
# TYPE lvsd_vrrp_effective_priority gauge
lvsd_vrrp_effective_priority{instance="VI_1",interface="eth0",vrid="51"} 140
lvsd_vrrp_effective_priority{instance="VI_2",interface="eth1",vrid="52"} 100
# HELP lvsd_vrrp_became_master_total Transitions into MASTER.
# TYPE lvsd_vrrp_became_master_total counter
lvsd_vrrp_became_master_total{instance="VI_1",interface="eth0",vrid="51"} 2
lvsd_vrrp_became_master_total{instance="VI_2",interface="eth1",vrid="52"} 0
# HELP lvsd_vrrp_released_master_total Transitions out of MASTER.
# TYPE lvsd_vrrp_released_master_total counter
lvsd_vrrp_released_master_total{instance="VI_1",interface="eth0",vrid="51"} 1
lvsd_vrrp_released_master_total{instance="VI_2",interface="eth1",vrid="52"} 0
# HELP lvsd_vrrp_adverts_sent_total VRRP advertisements sent.
# TYPE lvsd_vrrp_adverts_sent_total counter
lvsd_vrrp_adverts_sent_total{instance="VI_1",interface="eth0",vrid="51"} 60
lvsd_vrrp_adverts_sent_total{instance="VI_2",interface="eth1",vrid="52"} 0
# HELP lvsd_vrrp_packets_dropped_total VRRP packets discarded, by reason.
# TYPE lvsd_vrrp_packets_dropped_total counter
lvsd_vrrp_packets_dropped_total{instance="VI_1",interface="eth0",reason="auth",vrid="51"} 0
lvsd_vrrp_packets_dropped_total{instance="VI_1",interface="eth0",reason="ttl",vrid="51"} 2
# HELP lvsd_vrrp_script_up 1 when the vrrp_script's rise/fall state is OK, 0 when failing or missing (keepalived-exporter: keepalived_script_status).
# TYPE lvsd_vrrp_script_up gauge
lvsd_vrrp_script_up{script="chk_gone"} 0
lvsd_vrrp_script_up{script="chk_haproxy"} 1
# HELP lvsd_vrrp_script_runs_total Runs of the vrrp_script since start.
# TYPE lvsd_vrrp_script_runs_total counter
lvsd_vrrp_script_runs_total{script="chk_gone"} 0
lvsd_vrrp_script_runs_total{script="chk_haproxy"} 12
# HELP lvsd_real_server_up 1 when the real server's health checks pass.
# TYPE lvsd_real_server_up gauge
lvsd_real_server_up{local_address="",local_mark="7",local_port="",proto="TCP",remote_address="2001:db8::5",remote_port="80"} 1
lvsd_real_server_up{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 1
lvsd_real_server_up{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.2",remote_port="8080"} 0
# HELP lvsd_real_server_weight Weight of the real server in IPVS (0 when removed or inhibited).
# TYPE lvsd_real_server_weight gauge
lvsd_real_server_weight{local_address="",local_mark="7",local_port="",proto="TCP",remote_address="2001:db8::5",remote_port="80"} 1
lvsd_real_server_weight{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 3
lvsd_real_server_weight{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.2",remote_port="8080"} 0
# HELP lvsd_real_server_active_connections Active connections in the kernel (ipvsadm ActiveConn).
# TYPE lvsd_real_server_active_connections gauge
lvsd_real_server_active_connections{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 5
# HELP lvsd_real_server_incoming_bytes_total Bytes from clients to the real server, counted by the kernel.
# TYPE lvsd_real_server_incoming_bytes_total counter
lvsd_real_server_incoming_bytes_total{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 64000
# HELP lvsd_real_server_outgoing_packets_total Packets from the real server to clients through the director (NAT only).
# TYPE lvsd_real_server_outgoing_packets_total counter
lvsd_real_server_outgoing_packets_total{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 900
# HELP lvsd_virtual_server_sorry_server_active 1 when the sorry server replaces the real servers.
# TYPE lvsd_virtual_server_sorry_server_active gauge
lvsd_virtual_server_sorry_server_active{local_address="",local_mark="7",local_port="",proto="TCP"} 1
lvsd_virtual_server_sorry_server_active{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP"} 0
# HELP lvsd_healthcheck_duration_seconds How long the real server's health checks took.
# TYPE lvsd_healthcheck_duration_seconds histogram
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.0005"} 0
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.001"} 0
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.0025"} 1
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.005"} 1
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.01"} 1
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.025"} 1
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.05"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.1"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.25"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="0.5"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="1"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="2.5"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="5"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="10"} 2
lvsd_healthcheck_duration_seconds_bucket{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080",le="+Inf"} 3
lvsd_healthcheck_duration_seconds_sum{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 20.032
lvsd_healthcheck_duration_seconds_count{local_address="192.0.2.10",local_mark="",local_port="80",proto="TCP",remote_address="198.51.100.1",remote_port="8080"} 3
# HELP lvsd_ipvs_reconcile_duration_seconds How long the last IPVS reconcile pass took.
# TYPE lvsd_ipvs_reconcile_duration_seconds gauge
lvsd_ipvs_reconcile_duration_seconds{backend="batched"} 0.0015
# HELP lvsd_ipvs_reconcile_last_timestamp_seconds When the last IPVS reconcile pass finished.
# TYPE lvsd_ipvs_reconcile_last_timestamp_seconds gauge
lvsd_ipvs_reconcile_last_timestamp_seconds{backend="batched"} 1.7000001005e+09
# HELP lvsd_ipvs_reconcile_error 1 when the last reconcile pass failed.
# TYPE lvsd_ipvs_reconcile_error gauge
lvsd_ipvs_reconcile_error{backend="batched"} 1
# HELP lvsd_config_last_reload_successful 1 when the last configuration load (start or reload) was applied, 0 when it was refused.
# TYPE lvsd_config_last_reload_successful gauge
lvsd_config_last_reload_successful 0
# HELP lvsd_config_last_reload_success_timestamp_seconds When a configuration was last applied (start or reload), in seconds since the Unix epoch.
# TYPE lvsd_config_last_reload_success_timestamp_seconds gauge
lvsd_config_last_reload_success_timestamp_seconds 1.7000002e+09
# HELP lvsd_config_reload_failures_total Reloads refused since start (the running configuration stayed).
# TYPE lvsd_config_reload_failures_total counter
lvsd_config_reload_failures_total 1
# HELP lvsd_ipvs_repairs_total IPVS operations applied to the kernel since start (changes and drift repairs).
# TYPE lvsd_ipvs_repairs_total counter
lvsd_ipvs_repairs_total{backend="batched"} 17
`
	names := []string{"lvsd_build_info", "lvsd_start_time_seconds", "lvsd_vrrp_instance_info", "lvsd_vrrp_state", "lvsd_vrrp_priority",
		"lvsd_vrrp_effective_priority", "lvsd_vrrp_became_master_total", "lvsd_vrrp_released_master_total",
		"lvsd_vrrp_adverts_sent_total", "lvsd_vrrp_packets_dropped_total", "lvsd_vrrp_script_up", "lvsd_vrrp_script_runs_total", "lvsd_real_server_up", "lvsd_real_server_weight",
		"lvsd_real_server_active_connections", "lvsd_real_server_incoming_bytes_total", "lvsd_real_server_outgoing_packets_total",
		"lvsd_virtual_server_sorry_server_active", "lvsd_healthcheck_duration_seconds",
		"lvsd_ipvs_reconcile_duration_seconds", "lvsd_ipvs_reconcile_last_timestamp_seconds", "lvsd_ipvs_reconcile_error",
		"lvsd_ipvs_repairs_total", "lvsd_config_last_reload_successful", "lvsd_config_last_reload_success_timestamp_seconds",
		"lvsd_config_reload_failures_total"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Every described metric is valid and lint-clean (names, help, units).
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// The endpoint serves valid Prometheus text with the Go and process collectors beside ours.
func TestHandlerServesValidText(t *testing.T) {
	srv := httptest.NewServer(Handler(fixedStatus))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("not valid Prometheus text: %v", err)
	}
	for _, name := range []string{"lvsd_vrrp_state", "lvsd_real_server_up", "go_goroutines", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// The Grafana dashboard is valid JSON and queries only metrics that exist.
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	b, err := os.ReadFile("../../dist/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	known := map[string]bool{}
	descs := make(chan *prometheus.Desc, 100)
	NewCollector(fixedStatus).Describe(descs)
	close(descs)
	for d := range descs {
		name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String())[1]
		known[name] = true
	}
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range regexp.MustCompile(`\blvsd_[a-z_]+`).FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(m, "_bucket")
				if !known[base] {
					t.Errorf("dashboard queries %s, which lvsd does not export", m)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("dashboard queries only %d lvsd metrics", n)
	}
}
