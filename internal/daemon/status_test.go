package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/lvs/lvstest"
)

// syntheticDaemon returns a daemon serving the status of lvs.SyntheticTable(services, dests)
// (weights 1 to 5, every real server healthy) over a fake kernel that holds the same table
// with counters, once the health manager has reported every virtual server.
func syntheticDaemon(tb testing.TB, services, dests int) (*Daemon, lvs.Table) {
	tb.Helper()
	table := lvs.SyntheticTable(services, dests)
	n := 0
	for i := range table {
		for j := range table[i].Destinations {
			d := &table[i].Destinations[j]
			d.Weight = 1 + n%5
			d.ActiveConns, d.Stats.Conns, d.Stats.InBytes = uint32(n), uint64(2*n), uint64(3*n)
			n++
		}
	}
	var src strings.Builder
	src.WriteString("global {\n  router_id = \"big\"\n}\n")
	for _, s := range table {
		fmt.Fprintf(&src, "virtual_server \"%s:%d\" {\n  lb_algo = %q\n  lb_kind = \"DR\"\n", s.Key.Addr, s.Key.Port, s.Scheduler)
		for _, d := range s.Destinations {
			fmt.Fprintf(&src, "  real_server \"%s:%d\" { weight = %d }\n", d.Addr, d.Port, d.Weight)
		}
		src.WriteString("}\n")
	}
	cfg, err := config.Parse("big.hcl", []byte(src.String()))
	if err != nil {
		tb.Fatal(err)
	}
	st := newLVSState(cfg, lvs.NewReconciler(lvstest.NewKernel(table), nil))
	reported := make(chan struct{}, services)
	onChange := func(id string, d []healthcheck.Dest) {
		st.onChange(id, d)
		reported <- struct{}{}
	}
	runHealth(tb, st, cfg.VirtualServers, onChange)
	for range services {
		select {
		case <-reported:
		case <-time.After(time.Minute):
			tb.Fatal("the health manager did not report every virtual server")
		}
	}
	return &Daemon{cfg: cfg, lvs: st, log: slog.New(slog.DiscardHandler), started: time.Now()}, table
}

// runHealth runs a health manager over vss for st until the test ends; onChange is its
// callback (st.onChange, or a wrapper).
func runHealth(tb testing.TB, st *lvsState, vss []config.VirtualServer, onChange func(string, []healthcheck.Dest)) {
	tb.Helper()
	health, err := healthcheck.NewManager(healthConfig(vss, nil), healthcheck.Options{OnChange: onChange, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	st.health = health
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = health.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
}

// serveStatus serves c on a fresh control socket and returns its path.
func serveStatus(tb testing.TB, c Controller) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "lvsd.sock")
	ln, err := ListenControl(path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ServeControl(ctx, ln, c, slog.New(slog.DiscardHandler)); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return path
}

// The status of a table of thousands of real servers lists every one of them with its
// weight, health and kernel counters, in configuration order, and arrives whole over the
// control socket, also as a summary.
func TestStatusLargeTable(t *testing.T) {
	const services, dests = 300, 4000
	d, table := syntheticDaemon(t, services, dests)
	st := d.Status()
	if len(st.VirtualServers) != services {
		t.Fatalf("%d virtual servers, want %d", len(st.VirtualServers), services)
	}
	total := 0
	for i, vs := range st.VirtualServers {
		want := table[i]
		if vs.Address != want.Addr.String() || vs.Port != int(want.Port) || vs.Protocol != "TCP" {
			t.Fatalf("virtual server %d is %s:%d %s, want %s", i, vs.Address, vs.Port, vs.Protocol, want.Key)
		}
		if len(vs.RealServers) != len(want.Destinations) || vs.RealServersTotal != len(want.Destinations) ||
			vs.RealServersUp != len(want.Destinations) {
			t.Fatalf("%s: %d real servers (total %d, up %d), want %d", vs.Name, len(vs.RealServers),
				vs.RealServersTotal, vs.RealServersUp, len(want.Destinations))
		}
		for j, rs := range vs.RealServers {
			w := want.Destinations[j]
			k := KernelCounters{ActiveConns: w.ActiveConns, Conns: w.Stats.Conns, InBytes: w.Stats.InBytes}
			if rs.Address != fmt.Sprintf("%s:%d", w.Addr, w.Port) || rs.Weight != w.Weight || !rs.Healthy ||
				rs.Kernel == nil || *rs.Kernel != k {
				t.Fatalf("%s real server %d: %+v (kernel %+v), want %s:%d weight %d healthy, kernel %+v",
					vs.Name, j, rs, rs.Kernel, w.Addr, w.Port, w.Weight, k)
			}
		}
		total += len(vs.RealServers)
	}
	if total != dests {
		t.Errorf("%d real servers in all, want %d", total, dests)
	}

	socket := serveStatus(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := QueryStatus(ctx, socket, StatusQuery{Silence: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.VirtualServers) != services {
		t.Fatalf("over the socket: %d virtual servers", len(got.VirtualServers))
	}
	for i := range got.VirtualServers {
		// Only the times and timers differ between two snapshots.
		if g, w := got.VirtualServers[i], st.VirtualServers[i]; !reflect.DeepEqual(g, w) {
			t.Fatalf("over the socket, virtual server %d is\n%+v\nwant\n%+v", i, g, w)
		}
	}
	sum, err := QueryStatus(ctx, socket, StatusQuery{Summary: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, vs := range sum.VirtualServers {
		if vs.RealServers != nil || vs.RealServersTotal != len(table[i].Destinations) || vs.RealServersUp != vs.RealServersTotal {
			t.Fatalf("summary of %s: %d listed, total %d, up %d", vs.Name, len(vs.RealServers), vs.RealServersTotal, vs.RealServersUp)
		}
	}
}

// WriteStatus says the same as encoding/json, compact or indented like json.MarshalIndent,
// and a summary drops only the real server lists.
func TestWriteStatus(t *testing.T) {
	var h healthcheck.Histogram
	h.Observe(3 * time.Millisecond)
	full := Status{RouterID: "a<b", Version: "v1", StartedAt: time.Unix(1700000000, 0).UTC(),
		VRRP: []VRRPStatus{{Name: "VI_1", State: "MASTER", VIPs: []string{"192.0.2.1/32"}, Drops: map[string]uint64{"ttl": 1}}},
		VirtualServers: []VirtualServerStatus{
			{Name: "192.0.2.1:80", Protocol: "TCP", RealServersTotal: 2, RealServersUp: 1, RealServers: []RealServerStatus{
				{Address: "198.51.100.1:80", Weight: 1, Healthy: true, CheckDurations: h, Kernel: &KernelCounters{Conns: 4}},
				{Address: "198.51.100.2:80", LastResult: "connect: refused"},
			}},
			{Name: "fwmark 7", FWMark: 7, Protocol: "TCP", RealServers: []RealServerStatus{}},
		},
		IPVS: &IPVSStatus{Backend: "batched", Took: time.Millisecond},
	}
	empty := Status{RouterID: "a", VirtualServers: []VirtualServerStatus{}} // as the daemon has it
	for _, tc := range []struct {
		name string
		st   Status
	}{{"table", full}, {"no virtual servers", empty}} {
		t.Run(tc.name, func(t *testing.T) {
			var compact, indented bytes.Buffer
			if err := WriteStatus(&compact, &tc.st, StatusFormat{}); err != nil {
				t.Fatal(err)
			}
			if err := WriteStatus(&indented, &tc.st, StatusFormat{Indent: "  "}); err != nil {
				t.Fatal(err)
			}
			ref, err := json.Marshal(tc.st)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := decodeAny(t, compact.Bytes()), decodeAny(t, ref); !reflect.DeepEqual(a, b) {
				t.Errorf("WriteStatus says\n%s\nencoding/json says\n%s", compact.Bytes(), ref)
			}
			var want bytes.Buffer
			if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			if indented.String() != want.String() {
				t.Errorf("indented:\n%s\nwant:\n%s", indented.Bytes(), want.Bytes())
			}
		})
	}
	var b bytes.Buffer
	if err := WriteStatus(&b, &full, StatusFormat{Summary: true}); err != nil {
		t.Fatal(err)
	}
	var sum Status
	if err := json.Unmarshal(b.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.VirtualServers) != 2 || sum.VirtualServers[0].RealServers != nil || sum.VirtualServers[0].RealServersUp != 1 ||
		sum.VirtualServers[1].FWMark != 7 || sum.RouterID != "a<b" || sum.VRRP[0].State != "MASTER" {
		t.Errorf("summary: %s", b.Bytes())
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

// GET /status?summary= takes a boolean; anything else is the client's mistake.
func TestStatusSummaryParameter(t *testing.T) {
	path := serveStatus(t, &fakeController{status: Status{RouterID: "a"}})
	var st Status
	err := callControl(context.Background(), path, http.MethodGet, statusPath+"?summary=maybe", nil, 0, &st)
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request: summary: want true or false") {
		t.Errorf("summary=maybe: %v", err)
	}
	if err := callControl(context.Background(), path, http.MethodGet, statusPath+"?summary=1", nil, 0, &st); err != nil || st.RouterID != "a" {
		t.Errorf("summary=1: %v, %+v", err, st)
	}
}

// A daemon that stops sending makes the query fail after the silence bound, with a
// message that says so; one that keeps sending is read to the end however long it takes.
func TestQueryStatusSilence(t *testing.T) {
	const head = `{"router_id":"a","virtual_servers":[`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(head))
		w.(http.Flusher).Flush()
		if r.URL.Query().Get("summary") == "" { // stuck half-way
			<-r.Context().Done()
			return
		}
		// Slow, but never silent for long: 8 pieces 100 ms apart against a 2 s bound.
		for i := range 8 {
			if i > 0 {
				w.Write([]byte(","))
			}
			fmt.Fprintf(w, `{"name":"vs%d"}`, i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		w.Write([]byte("]}"))
	})
	socket := serveTest(t, defaultControlLimits, mux)
	_, err := QueryStatus(context.Background(), socket, StatusQuery{Silence: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "the daemon sent nothing for 200ms") {
		t.Errorf("stuck daemon: err = %v", err)
	}
	st, err := QueryStatus(context.Background(), socket, StatusQuery{Summary: true, Silence: 2 * time.Second})
	if err != nil || len(st.VirtualServers) != 8 {
		t.Errorf("slow daemon: %v, %+v", err, st)
	}
}

// BenchmarkStatus measures the status of keepalived's largest published table (2,277
// services, 37,205 real servers; docs/benchmarks.md): building the snapshot, encoding it
// as the control socket does, and the whole query through the socket as `lvsd status
// --json` makes it (build, encode, send, decode).
func BenchmarkStatus(b *testing.B) {
	d, _ := syntheticDaemon(b, 2277, 37205)
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.Status()
		}
	})
	st := d.Status()
	for _, f := range []struct {
		name string
		f    StatusFormat
	}{{"encode", StatusFormat{}}, {"encode-summary", StatusFormat{Summary: true}}, {"encode-indented", StatusFormat{Indent: "  "}}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				var c countWriter
				if err := WriteStatus(&c, &st, f.f); err != nil {
					b.Fatal(err)
				}
				n = int(c)
			}
			b.ReportMetric(float64(n)/1e6, "MB")
		})
	}
	socket := serveStatus(b, d)
	for _, q := range []struct {
		name string
		q    StatusQuery
	}{{"query", StatusQuery{}}, {"query-summary", StatusQuery{Summary: true}}} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := QueryStatus(context.Background(), socket, q.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
