package healthcheck

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestConnectSlowPath(t *testing.T) {
	slowPathOnly = true
	defer func() { slowPathOnly = false }()
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			l := listen(t, f.network, f.ip)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			tests := []struct {
				name   string
				target func() ConnOpts
				want   string
			}{
				{"up", func() ConnOpts { return ConnOpts{Target: addrPort(t, l.Addr()), ConnectTimeout: time.Second} }, ""},
				{"refused", func() ConnOpts { return ConnOpts{Target: closedPort(t, f.network, f.ip), ConnectTimeout: time.Second} }, "connection refused"},
				{"timeout", func() ConnOpts {
					return ConnOpts{Target: fullBacklog(t, f.network, f.ip), ConnectTimeout: 200 * time.Millisecond}
				}, "timeout after 200ms"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := tt.target().connectOnly(context.Background())
					if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
						t.Errorf("connectOnly = %v, want %q", err, tt.want)
					}
				})
			}
		})
	}
}

func TestConnectCanceled(t *testing.T) {
	slowPathOnly = true
	defer func() { slowPathOnly = false }()
	o := ConnOpts{Target: fullBacklog(t, "tcp4", "127.0.0.1"), ConnectTimeout: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := o.connectOnly(ctx); err == nil {
		t.Fatal("connect to a full backlog succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("canceled connect returned after %v", d)
	}
}
