package metrics

import (
	"bytes"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lvsd/lvsd/internal/daemon"
)

// scrapeFamilies fetches the handler's whole output and parses it as Prometheus text.
func scrapeFamilies(t *testing.T, status func() daemon.Status, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(Handler(status))
	defer srv.Close()
	req := httptest.NewRequest("GET", srv.URL, nil)
	req.RequestURI = ""
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Accept %q: Content-Type %q, want the text format", accept, ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("not valid Prometheus text: %v", err)
	}
	return families
}

// familyText renders f with its samples sorted, so two families holding the same samples in
// different orders compare equal.
func familyText(t *testing.T, f *dto.MetricFamily) string {
	t.Helper()
	var lines []string
	var b bytes.Buffer
	for _, m := range f.Metric {
		b.Reset()
		one := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type, Metric: []*dto.Metric{m}}
		if _, err := expfmt.MetricFamilyToText(&b, one); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	slices.Sort(lines)
	return "# HELP " + f.GetName() + " " + f.GetHelp() + "\n# TYPE " + f.GetType().String() + "\n" + strings.Join(lines, "\n")
}

// The served text holds exactly what the Collector (client_golang's generic path) produces
// from the same snapshot, family by family and sample by sample, whatever format the
// scraper asks for; and every family docs/metrics.md documents is there.
func TestHandlerMatchesCollector(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status daemon.Status
	}{{"fixed", fixedStatus()}, {"synthetic", syntheticStatus(20, 300, true)}} {
		status := func() daemon.Status { return tc.status }
		reg := prometheus.NewRegistry()
		reg.MustRegister(NewCollector(status))
		want, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, accept := range []string{"", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
			"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"} {
			got := scrapeFamilies(t, status, accept)
			for _, w := range want {
				g := got[w.GetName()]
				if g == nil {
					t.Errorf("%s: no %s", tc.name, w.GetName())
					continue
				}
				if gt, wt := familyText(t, g), familyText(t, w); gt != wt {
					t.Errorf("%s: %s served as\n%s\nwant\n%s", tc.name, w.GetName(), gt, wt)
				}
			}
			if tc.name != "fixed" {
				continue
			}
			doc, err := os.ReadFile("../../docs/metrics.md")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range regexp.MustCompile(`\blvsd_[a-z_]+`).FindAllString(string(doc), -1) {
				if got[name] == nil {
					t.Errorf("docs/metrics.md documents %s, which the endpoint does not serve", name)
				}
			}
			for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
				if got[name] == nil {
					t.Errorf("no %s", name)
				}
			}
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "identity": false, "br, GZIP;q=0.5": true, "gzip;q=0": false, "gzip; q=0.000": false,
		"zstd,gzip": true, "x-gzip": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v", header, got)
		}
	}
}

// Label values are escaped as the text format requires.
func TestRealServerLabelsEscape(t *testing.T) {
	labels, _ := realServerLabels([]daemon.VirtualServerStatus{{Address: `a"b\c`, Port: 80, Protocol: "TCP",
		RealServers: []daemon.RealServerStatus{{Address: "x\ny"}}}})
	want := `local_address="a\"b\\c",local_mark="",local_port="80",proto="TCP",remote_address="x\ny",remote_port=""`
	if len(labels) != 1 || labels[0] != want {
		t.Errorf("labels %q, want %q", labels, want)
	}
}
