package daemon

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Bounds of the control socket's transport: one local client that sends garbage, stalls
// half-way through a request (slowloris) or opens connections in a loop must neither block
// the other clients nor cost the daemon unbounded memory, goroutines or descriptors.
type controlLimits struct {
	header, read, write, idle time.Duration
	maxHeader                 int   // bytes of request line and headers
	maxBody                   int64 // bytes of request body
	maxConns                  int   // connections served at once; more wait in the backlog
}

var defaultControlLimits = controlLimits{
	header:    5 * time.Second,
	read:      10 * time.Second,
	write:     2 * time.Minute, // a reload answers once it is applied
	idle:      30 * time.Second,
	maxHeader: 16 << 10,
	maxBody:   1 << 20,
	maxConns:  64,
}

// server wraps h in the limits; serve it on l.listener(ln).
func (l controlLimits) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           http.MaxBytesHandler(h, l.maxBody),
		ReadHeaderTimeout: l.header,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeader,
	}
}

// listener accepts at most maxConns connections at a time: each costs a goroutine and a
// descriptor, and the daemon's own sockets must not run out of descriptors.
func (l controlLimits) listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, l.maxConns), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{} // closed by Close: an Accept waiting for a free slot returns
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &releaseConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type releaseConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *releaseConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
