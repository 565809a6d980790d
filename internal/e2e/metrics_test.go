package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lvsd/lvsd/internal/netns"
)

const metricsAddr = "127.0.0.1:9650"

// startLvsdMetrics starts lvsd on h with /metrics on metricsAddr in h's namespace: set in
// the config (global.metrics_listen) when viaConfig, else with --metrics-listen.
func startLvsdMetrics(t *testing.T, l *lab, h *netns.Host, s Spec, viaConfig bool) *Lvsd {
	t.Helper()
	dir := filepath.Join(l.dir, h.Name+"-metrics")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &Lvsd{Host: h, Socket: filepath.Join(dir, "lvsd.sock"), Config: filepath.Join(dir, "lvsd.hcl")}
	cfg := LvsdConfig(h.Name, d.Socket, s)
	args := []string{"run", "--config", d.Config, "--socket", d.Socket, "--log-format", "json"}
	if viaConfig {
		cfg = strings.Replace(cfg, "global {\n", "global {\n  metrics_listen = \""+metricsAddr+"\"\n", 1)
	} else {
		args = append(args, "--metrics-listen", metricsAddr)
	}
	if err := os.WriteFile(d.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := h.Start(lvsdBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	d.Proc = p
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("lvsd on %s:\n%s", h.Name, p.Output())
		}
	})
	return d
}

// scrape fetches /metrics inside h's namespace and parses it as Prometheus text.
func scrape(h *netns.Host) (map[string]*dto.MetricFamily, error) {
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var conn net.Conn
			err := h.Do(func() error {
				var err error
				conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
	}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the metric name's value for instance VI_1 (gauge or counter).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, lp := range m.Label {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["instance"] != "VI_1" || labels["interface"] != "eth0" || labels["vrid"] != "51" {
			continue
		}
		if m.Gauge != nil {
			return m.Gauge.GetValue()
		}
		return m.Counter.GetValue()
	}
	t.Fatalf("%s has no series for VI_1 on eth0 vrid 51", name)
	return 0
}

// single is the value of a metric without labels.
func single(t *testing.T, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("want one series of %s, have %v", name, f)
	}
	if g := f.Metric[0].Gauge; g != nil {
		return g.GetValue()
	}
	return f.Metric[0].Counter.GetValue()
}

// A real master/backup pair serves /metrics on each director: the state, priorities and
// counters agree with what each one is doing, and follow a failover.
func TestMetricsMasterBackup(t *testing.T) {
	l := newLab(t)
	d1 := startLvsdMetrics(t, l, l.R1, Spec{Priority: 150}, true)
	d2 := startLvsdMetrics(t, l, l.R2, Spec{Priority: 100}, false)
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	time.Sleep(2500 * time.Millisecond) // a few adverts go by

	m1, err := scrape(l.R1)
	if err != nil {
		t.Fatalf("scrape master: %v", err)
	}
	m2, err := scrape(l.R2)
	if err != nil {
		t.Fatalf("scrape backup: %v", err)
	}
	for _, c := range []struct {
		who        string
		fams       map[string]*dto.MetricFamily
		name       string
		want       float64
		atLeastOne bool
	}{
		{"master", m1, "lvsd_vrrp_state", 2, false},
		{"master", m1, "lvsd_vrrp_priority", 150, false},
		{"master", m1, "lvsd_vrrp_effective_priority", 150, false},
		{"master", m1, "lvsd_vrrp_became_master_total", 1, false},
		{"master", m1, "lvsd_vrrp_released_master_total", 0, false},
		{"master", m1, "lvsd_vrrp_adverts_sent_total", 0, true},
		{"backup", m2, "lvsd_vrrp_state", 1, false},
		{"backup", m2, "lvsd_vrrp_priority", 100, false},
		{"backup", m2, "lvsd_vrrp_became_master_total", 0, false},
		{"backup", m2, "lvsd_vrrp_adverts_received_total", 0, true},
	} {
		got := value(t, c.fams, c.name)
		if (c.atLeastOne && got < 1) || (!c.atLeastOne && got != c.want) {
			t.Errorf("%s %s = %v, want %v (at least 1: %v)", c.who, c.name, got, c.want, c.atLeastOne)
		}
	}
	for _, name := range []string{"lvsd_build_info", "go_goroutines", "process_resident_memory_bytes", "lvsd_vrrp_packets_dropped_total"} {
		if m1[name] == nil || m2[name] == nil {
			t.Errorf("no %s on both directors", name)
		}
	}

	// A refused reload shows in the metrics (the running configuration stays); a good
	// one clears it.
	if v := single(t, m2, "lvsd_config_last_reload_successful"); v != 1 {
		t.Errorf("after start lvsd_config_last_reload_successful = %v, want 1", v)
	}
	started := single(t, m2, "lvsd_config_last_reload_success_timestamp_seconds")
	good, err := os.ReadFile(d2.Config)
	if err != nil {
		t.Fatal(err)
	}
	reload := func(cfg []byte) {
		if err := os.WriteFile(d2.Config, cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		exec.Command(lvsdBin, "reload", "--socket", d2.Socket).Run() // its exit status is not under test here
		if m2, err = scrape(l.R2); err != nil {
			t.Fatalf("scrape backup: %v", err)
		}
	}
	reload([]byte("vrrp_instance \"VI_1\" {\n  priorty = 1\n}\n"))
	if v, f := single(t, m2, "lvsd_config_last_reload_successful"), single(t, m2, "lvsd_config_reload_failures_total"); v != 0 || f != 1 {
		t.Errorf("after a refused reload: last_reload_successful %v, failures %v; want 0 and 1", v, f)
	}
	time.Sleep(10 * time.Millisecond)
	reload(good)
	if v, ts := single(t, m2, "lvsd_config_last_reload_successful"), single(t, m2, "lvsd_config_last_reload_success_timestamp_seconds"); v != 1 || ts <= started {
		t.Errorf("after a good reload: last_reload_successful %v, success timestamp %v (start %v)", v, ts, started)
	}

	// Failover: the master stops gracefully, the backup takes over and counts it.
	if err := d1.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	l.wantState(d2, "MASTER", failoverTimeout)
	m2, err = scrape(l.R2)
	if err != nil {
		t.Fatalf("scrape new master: %v", err)
	}
	if s, n := value(t, m2, "lvsd_vrrp_state"), value(t, m2, "lvsd_vrrp_became_master_total"); s != 2 || n != 1 {
		t.Errorf("after failover the backup reports state %v, became_master %v; want 2 and 1", s, n)
	}
}
