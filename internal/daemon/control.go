package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// The control socket speaks HTTP over a unix socket: easy to extend, and debuggable with
// `curl --unix-socket SOCK http://lvsd/status`. GET /status?summary=true leaves out the
// real server lists.
const statusPath = "/status"

// statusBuffer is how much of the status document is written to the socket at once: the
// response writer's own buffer is 4 KB, and a table of tens of thousands of real servers is
// megabytes.
const statusBuffer = 64 << 10

// ListenControl creates the control socket at path with mode 0600 (only root may read the
// daemon's state or, later, change it). A stale socket left by a crashed daemon is
// replaced; a live one is an error, so two daemons never share a socket.
func ListenControl(path string) (net.Listener, error) {
	// A directory created here is private too (an existing one is left as it is).
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, controlSocketError(path, err)
	}
	if _, err := os.Lstat(path); err == nil {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another lvsd is already listening there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: remove stale socket: %w", path, err)
		}
	}
	// The umask makes the socket 0600 from its creation: a chmod afterwards would leave a
	// window in which any local user could connect.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, controlSocketError(path, err)
	}
	return ln, nil
}

// Controller is what the control socket serves: the daemon, or a fake in tests.
type Controller interface {
	Status() Status
	// Reload re-reads the configuration the daemon was started with and applies it.
	Reload(ctx context.Context) Result
	// Plan says what reloading the configuration at path would change.
	Plan(ctx context.Context, path string) Result
}

// ServeControl answers requests on ln until ctx ends, then closes ln and removes the
// socket file.
func ServeControl(ctx context.Context, ln net.Listener, c Controller, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+statusPath, func(w http.ResponseWriter, r *http.Request) {
		var f StatusFormat
		if v := r.URL.Query().Get("summary"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				http.Error(w, "summary: want true or false", http.StatusBadRequest)
				return
			}
			f.Summary = b
		}
		st := c.Status()
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, statusBuffer)
		err := WriteStatus(bw, &st, f)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			log.Warn("control socket: write status", "err", err)
		}
	})
	handleReload(mux, c, log)
	srv := defaultControlLimits.server(mux)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(defaultControlLimits.listener(ln))
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// FetchStatus asks the daemon listening on socket for its whole status.
func FetchStatus(ctx context.Context, socket string) (*Status, error) {
	return QueryStatus(ctx, socket, StatusQuery{})
}

// StatusQuery is what QueryStatus asks the daemon for, and how long it waits.
type StatusQuery struct {
	// Summary leaves out the real server lists (their counts stay).
	Summary bool
	// Silence, when set, gives up once the daemon has sent nothing for that long, before
	// its answer or in the middle of it. The status of a large table takes a while to
	// arrive, but it keeps arriving: a bound on the whole exchange would have to be as
	// large as the largest table, a bound on silence is not.
	Silence time.Duration
}

// QueryStatus asks the daemon listening on socket for its status.
func QueryStatus(ctx context.Context, socket string, q StatusQuery) (*Status, error) {
	path := statusPath
	if q.Summary {
		path += "?" + url.Values{"summary": {"true"}}.Encode()
	}
	var st Status
	if err := callControl(ctx, socket, http.MethodGet, path, nil, q.Silence, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
