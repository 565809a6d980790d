package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/config"
)

// POST /reload applies the configuration the daemon was started with; POST /plan, with a
// JSON body {"config": "/abs/path"}, says what reloading that path would change.
const (
	reloadPath = "/reload"
	planPath   = "/plan"
)

// Result is the answer to a reload or a plan.
type Result struct {
	// Applied is true when a reload changed the running configuration (also when nothing
	// differed); always false for a plan.
	Applied bool `json:"applied"`
	// Changes are the changes applied (reload) or pending (plan), in order.
	Changes []config.Change `json:"changes"`
	// Problems say why the configuration is invalid or cannot be applied, one per line
	// as FILE:LINE:COL: message; when set, nothing was applied.
	Problems []string `json:"problems,omitempty"`
	// Warnings are the new configuration's warnings.
	Warnings []string `json:"warnings,omitempty"`
}

type planRequest struct {
	Config string `json:"config"`
}

// maxPlanRequest bounds the body of a plan request (a path).
const maxPlanRequest = 64 << 10

func handleReload(mux *http.ServeMux, c Controller, log *slog.Logger) {
	reply := func(w http.ResponseWriter, r Result) {
		w.Header().Set("Content-Type", "application/json")
		if len(r.Problems) > 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			log.Warn("control socket: write reply", "err", err)
		}
	}
	mux.HandleFunc("POST "+reloadPath, func(w http.ResponseWriter, req *http.Request) {
		reply(w, c.Reload(req.Context()))
	})
	mux.HandleFunc("POST "+planPath, func(w http.ResponseWriter, req *http.Request) {
		var p planRequest
		if err := json.NewDecoder(io.LimitReader(req.Body, maxPlanRequest)).Decode(&p); err != nil || p.Config == "" {
			http.Error(w, `want a JSON body {"config": "/absolute/path"}`, http.StatusBadRequest)
			return
		}
		reply(w, c.Plan(req.Context(), p.Config))
	})
}

// controlClient talks HTTP to the daemon listening on socket.
func controlClient(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
}

// dialError explains a failure to reach the daemon.
func dialError(socket string, err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("no lvsd is listening on %s (is it running? is --socket right?)", socket)
	}
	if errors.Is(err, os.ErrPermission) {
		return permissionDenied(socket)
	}
	return fmt.Errorf("query %s: %w", socket, err)
}

// RequestReload asks the daemon on socket to reload its configuration. A configuration
// that is invalid or cannot be applied is a Result with Problems, not an error.
func RequestReload(ctx context.Context, socket string) (*Result, error) {
	return postControl(ctx, socket, reloadPath, nil)
}

// RequestPlan asks the daemon on socket what reloading the configuration at path (made
// absolute here: the daemon does not share our working directory) would change.
func RequestPlan(ctx context.Context, socket, path string) (*Result, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	body, err := json.Marshal(planRequest{Config: abs})
	if err != nil {
		return nil, err
	}
	return postControl(ctx, socket, planPath, body)
}

func postControl(ctx context.Context, socket, path string, body []byte) (*Result, error) {
	var r Result
	// 422: the reply is a Result with the configuration's problems.
	// No bound on silence: a reload answers once it is applied.
	if err := callControl(ctx, socket, http.MethodPost, path, body, 0, &r, http.StatusUnprocessableEntity); err != nil {
		return nil, err
	}
	return &r, nil
}

// callControl sends one request to the daemon on socket and decodes its JSON reply into
// out. 200 is always accepted; also lists other statuses whose body is a reply too. With
// silence > 0 it gives up once the daemon has sent nothing for that long.
func callControl(ctx context.Context, socket, method, path string, body []byte, silence time.Duration, out any, also ...int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	progress := func() {}
	if silence > 0 {
		t := time.AfterFunc(silence, func() { cancel(silenceError{silence}) })
		defer t.Stop()
		progress = func() { t.Reset(silence) }
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://lvsd"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := controlClient(socket).Do(req)
	if err != nil {
		return dialError(socket, silenceCause(ctx, err))
	}
	defer resp.Body.Close()
	progress()
	if resp.StatusCode != http.StatusOK && !slices.Contains(also, resp.StatusCode) {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("query %s: %s: %s", socket, resp.Status, bytes.TrimSpace(b))
	}
	if err := json.NewDecoder(progressReader{resp.Body, progress}).Decode(out); err != nil {
		return fmt.Errorf("query %s: decode reply: %w", socket, silenceCause(ctx, err))
	}
	return nil
}

// silenceError is why callControl gave up: the daemon sent nothing for d.
type silenceError struct{ d time.Duration }

func (e silenceError) Error() string {
	return fmt.Sprintf("the daemon sent nothing for %s (busy or stuck; --timeout waits longer)", e.d)
}

// silenceCause returns the silenceError that cancelled ctx, if that is why err happened.
func silenceCause(ctx context.Context, err error) error {
	var s silenceError
	if errors.As(context.Cause(ctx), &s) {
		return s
	}
	return err
}

// progressReader calls progress after every read that returned data.
type progressReader struct {
	r        io.Reader
	progress func()
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress()
	}
	return n, err
}
