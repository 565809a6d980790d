package metrics

import (
	"bufio"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/lvsd/lvsd/internal/daemon"
)

// textFormat is the one format served. The per-real-server families are written as text
// directly (realserver_text.go), so the handler cannot offer the protobuf or OpenMetrics
// formats promhttp would negotiate; every Prometheus version accepts this one.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// Handler serves the collector's metrics and the Go runtime and process collectors in
// Prometheus' text format. Every scrape takes one status snapshot: client_golang encodes
// everything but the per-real-server families, which are then written straight from the
// same snapshot.
func Handler(status func() daemon.Status) http.Handler {
	runtime := prometheus.NewRegistry()
	runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := status()
		snapshot := prometheus.NewRegistry()
		c := NewCollector(func() daemon.Status { return st })
		c.realServersElsewhere = true
		if err := snapshot.Register(c); err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		families, err := prometheus.Gatherers{runtime, snapshot}.Gather()
		if err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", string(textFormat))
		var out io.Writer = w
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			// As promhttp does: the text is large (58 MB on keepalived's largest table) and
			// compresses ~35-fold. The fastest level costs half the default's time for ~20%
			// more bytes (docs/benchmarks.md).
			w.Header().Set("Content-Encoding", "gzip")
			gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
			defer gz.Close()
			out = gz
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		enc := expfmt.NewEncoder(bw, textFormat)
		for _, f := range families {
			if err = enc.Encode(f); err != nil {
				break
			}
		}
		if err == nil {
			err = writeRealServerText(bw, st.VirtualServers)
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			// The status line is sent; all that is left is to log (the client sees a cut body).
			slog.Warn("metrics: writing the scrape", "err", err)
		}
	})
}

// acceptsGzip reports whether an Accept-Encoding header value offers gzip (and does not
// refuse it with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
