package metrics

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/daemon"
)

// writeRealServerText writes the per-real-server families of vss in the Prometheus text
// format (version 0.0.4), the way expfmt would write them but without building a
// client_golang metric per sample: on keepalived's largest table that is ~370,000 samples,
// and the generic path (label pairs per sample, the registry's sort and checks) cost seconds
// per scrape. Each real server's label set is formatted once and shared by all its samples.
// Samples follow the snapshot's order; the text format does not require them sorted.
func writeRealServerText(w io.Writer, vss []daemon.VirtualServerStatus) error {
	labels, servers := realServerLabels(vss)
	tw := textWriter{w: w}
	for _, f := range realServerFamilies {
		tw.header(f.name, f.help, typeName(f.typ))
		for i, rs := range servers {
			if v, ok := f.value(rs); ok {
				tw.sample(f.name, labels[i], "", v)
			}
		}
	}
	tw.header(checkDurationName, checkDurationHelp, "histogram")
	for i, rs := range servers {
		if h := rs.CheckDurations; h.Count > 0 {
			tw.histogram(labels[i], h)
		}
	}
	tw.flush()
	return tw.err
}

// realServerLabels returns every real server with its label set, formatted as
// `local_address="…",local_mark="…",…` (names sorted, as client_golang writes them).
func realServerLabels(vss []daemon.VirtualServerStatus) ([]string, []daemon.RealServerStatus) {
	var labels []string
	var servers []daemon.RealServerStatus
	var b []byte
	for _, vs := range vss {
		port, mark := strconv.Itoa(vs.Port), ""
		if vs.FWMark != 0 {
			port, mark = "", strconv.FormatUint(uint64(vs.FWMark), 10)
		}
		for _, rs := range vs.RealServers {
			host, rport := splitAddress(rs.Address)
			b = b[:0]
			for i, v := range [...]string{vs.Address, mark, port, vs.Protocol, host, rport} {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, rsLabelsSorted[i]...)
				b = append(b, `="`...)
				b = appendLabelValue(b, v)
				b = append(b, '"')
			}
			labels = append(labels, string(b))
			servers = append(servers, rs)
		}
	}
	return labels, servers
}

// rsLabelsSorted is rsLabels in the order the text format writes them.
var rsLabelsSorted = [...]string{"local_address", "local_mark", "local_port", "proto", "remote_address", "remote_port"}

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func appendLabelValue(b []byte, v string) []byte {
	if strings.ContainsAny(v, "\\\n\"") {
		v = labelEscaper.Replace(v)
	}
	return append(b, v...)
}

func typeName(t prometheus.ValueType) string {
	if t == prometheus.CounterValue {
		return "counter"
	}
	return "gauge"
}

// textWriter batches lines into one buffer and remembers the first write error, so the
// per-sample code stays free of error plumbing.
type textWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (t *textWriter) header(name, help, typ string) {
	t.buf = append(t.buf, "# HELP "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, help...)
	t.buf = append(t.buf, "\n# TYPE "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, '\n')
}

// sample writes `name{labels[,extra]} value`; extra is an already formatted label pair.
func (t *textWriter) sample(name, labels, extra string, v float64) {
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, '{')
	t.buf = append(t.buf, labels...)
	t.buf = append(t.buf, extra...)
	t.buf = append(t.buf, "} "...)
	t.buf = appendFloat(t.buf, v)
	t.buf = append(t.buf, '\n')
	if len(t.buf) >= 64<<10 {
		t.flush()
	}
}

func (t *textWriter) histogram(labels string, h healthcheck.Histogram) {
	for i := range healthcheck.DurationBuckets {
		if i >= len(h.Buckets) {
			break
		}
		t.sample(checkDurationName+"_bucket", labels, bucketLabels[i], float64(h.Buckets[i]))
	}
	t.sample(checkDurationName+"_bucket", labels, `,le="+Inf"`, float64(h.Count))
	t.sample(checkDurationName+"_sum", labels, "", h.Sum)
	t.sample(checkDurationName+"_count", labels, "", float64(h.Count))
}

// bucketLabels are the `,le="…"` pairs of healthcheck.DurationBuckets, formatted once.
var bucketLabels = func() []string {
	out := make([]string, len(healthcheck.DurationBuckets))
	for i, le := range healthcheck.DurationBuckets {
		out[i] = `,le="` + string(appendFloat(nil, le)) + `"`
	}
	return out
}()

func (t *textWriter) flush() {
	if t.err == nil && len(t.buf) > 0 {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
}

// appendFloat formats v as expfmt does.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
