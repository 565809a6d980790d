package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/daemon"
	"github.com/lvsd/lvsd/lvs"
)

// syntheticStatus is the status of lvs.SyntheticTable(services, dests) with kernel counters
// for every real server and, with checked, a check duration histogram.
func syntheticStatus(services, dests int, checked bool) daemon.Status {
	var h healthcheck.Histogram
	if checked {
		h.Observe(2 * time.Millisecond)
	}
	st := daemon.Status{RouterID: "big", Version: "v1"}
	for _, s := range lvs.SyntheticTable(services, dests) {
		vs := daemon.VirtualServerStatus{Name: s.Key.String(), Address: s.Addr.String(), Port: int(s.Port), Protocol: "TCP", QuorumUp: true}
		for _, d := range s.Destinations {
			vs.RealServers = append(vs.RealServers, daemon.RealServerStatus{Address: d.Addr.String() + ":80", Weight: 1, Healthy: true,
				CheckDurations: h.Clone(), Kernel: &daemon.KernelCounters{Conns: 1}})
		}
		st.VirtualServers = append(st.VirtualServers, vs)
	}
	return st
}

// BenchmarkScrape measures one scrape of /metrics over HTTP on keepalived's largest published
// table (2,277 services, 37,205 real servers; docs/benchmarks.md), without and with health
// check histograms. The snapshot is prebuilt: this is the collector's and the exposition's
// cost alone, gzip included (http.Get asks for it, as Prometheus does).
func BenchmarkScrape(b *testing.B) {
	for _, tc := range []struct {
		name    string
		checked bool
	}{{"unchecked", false}, {"checked", true}} {
		st := syntheticStatus(2277, 37205, tc.checked)
		srv := httptest.NewServer(Handler(func() daemon.Status { return st }))
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				resp, err := http.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				n, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("scrape: %v, %s", err, resp.Status)
				}
			}
			b.ReportMetric(float64(n)/1e6, "MB")
		})
		srv.Close()
	}
}
