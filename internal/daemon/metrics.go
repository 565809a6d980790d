package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// metricsEndpoint is the Prometheus /metrics listener (global.metrics_listen). It is opened
// in the preflight, so a busy port stops the start before anything changes, and served
// beside the control socket. A nil *metricsEndpoint is "off".
type metricsEndpoint struct {
	ln  net.Listener
	h   http.Handler
	log *slog.Logger
}

// openMetrics listens on addr when both addr and handler are set; handler builds the
// endpoint's handler from the status snapshot function (internal/metrics does).
func openMetrics(addr string, handler func(status func() Status) http.Handler, status func() Status, log *slog.Logger) (*metricsEndpoint, error) {
	if addr == "" || handler == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: %w (is another program using the port? change global.metrics_listen or --metrics-listen)", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", handler(status))
	return &metricsEndpoint{ln: ln, h: mux, log: log}, nil
}

// serve answers on the endpoint until ctx ends.
func (m *metricsEndpoint) serve(ctx context.Context) error {
	if m == nil {
		return nil
	}
	srv := &http.Server{Handler: m.h, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	m.log.Info("serving metrics", "url", "http://"+m.ln.Addr().String()+"/metrics")
	if err := srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (m *metricsEndpoint) close() {
	if m != nil {
		m.ln.Close()
	}
}
