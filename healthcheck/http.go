package healthcheck

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds how much of a response body is read (and hashed) per URL.
const maxBody = 64 << 20

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// DefaultStatusCodes is what a url without status_code accepts (keepalived's
// HTTP_DEFAULT_STATUS_CODE_MIN..MAX).
var DefaultStatusCodes = []StatusRange{{200, 299}}

// URL is one url block of http_get / ssl_get.
type URL struct {
	Path string
	// StatusCodes accepted; empty: DefaultStatusCodes.
	StatusCodes []StatusRange
	// Digest is the MD5 of the body in hex, as keepalived's genhash prints it; empty: not
	// checked.
	Digest string
	// VirtualHost overrides HTTPConfig.VirtualHost for this url.
	VirtualHost string
}

// HTTPConfig is an http_get (TLS false) or ssl_get (TLS true) block. Every URL must pass.
type HTTPConfig struct {
	ConnOpts
	TLS bool
	// VirtualHost is sent as the Host header (default: the target IP:port) and, with TLS
	// and EnableSNI, as SNI.
	VirtualHost string
	// EnableSNI sends VirtualHost in the TLS handshake's server_name (keepalived's
	// enable_sni); without it no SNI is sent, as keepalived does.
	EnableSNI bool
	// VerifyCert turns on certificate verification; keepalived does not verify, so the
	// default is off.
	VerifyCert bool
	URLs       []URL
}

// HTTPChecker fetches each URL over its own connection (HTTP/1.0, Connection: close, as
// keepalived does), checks the status code, and the MD5 of the raw body when a digest is
// configured. The whole exchange for one URL is bounded by ConnectTimeout.
type HTTPChecker struct {
	cfg HTTPConfig
}

var _ Checker = (*HTTPChecker)(nil)

// NewHTTPChecker validates cfg and returns its checker.
func NewHTTPChecker(cfg HTTPConfig) (*HTTPChecker, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("http check: no url")
	}
	for i, u := range cfg.URLs {
		if u.Path == "" {
			cfg.URLs[i].Path = "/"
		}
		if u.Digest != "" {
			b, err := hex.DecodeString(u.Digest)
			if err != nil || len(b) != md5.Size {
				return nil, fmt.Errorf("url %s: digest %q is not 32 hex digits", u.Path, u.Digest)
			}
			cfg.URLs[i].Digest = strings.ToLower(u.Digest)
		}
	}
	return &HTTPChecker{cfg: cfg}, nil
}

// Check fetches every URL; the first failure decides.
func (c *HTTPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	for _, u := range c.cfg.URLs {
		if why, ok := c.fetch(ctx, u); !ok {
			return Result{Why: why, Latency: time.Since(start)}
		}
	}
	n := len(c.cfg.URLs)
	why := fmt.Sprintf("%s %s: ok", c.scheme(), c.cfg.Target)
	if n > 1 {
		why = fmt.Sprintf("%s %s: %d urls ok", c.scheme(), c.cfg.Target, n)
	}
	return Result{Up: true, Why: why, Latency: time.Since(start)}
}

func (c *HTTPChecker) scheme() string {
	if c.cfg.TLS {
		return "https"
	}
	return "http"
}

func (c *HTTPChecker) fetch(ctx context.Context, u URL) (string, bool) {
	timeout := c.cfg.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	where := fmt.Sprintf("%s://%s%s", c.scheme(), c.cfg.Target, u.Path)
	fail := func(format string, a ...any) (string, bool) {
		return where + ": " + fmt.Sprintf(format, a...), false
	}
	conn, err := c.cfg.dial(ctx)
	if err != nil {
		return err.Error(), false
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Close the connection if ctx ends first (shutdown), so reads return at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	vhost := u.VirtualHost
	if vhost == "" {
		vhost = c.cfg.VirtualHost
	}
	if c.cfg.TLS {
		sni := ""
		if c.cfg.EnableSNI || c.cfg.VerifyCert { // verification needs the name
			sni = vhost
		}
		if sni == "" {
			sni = c.cfg.Target.Addr().String() // an IP: crypto/tls sends no SNI for it
		}
		if h, _, err := net.SplitHostPort(sni); err == nil {
			sni = h
		}
		tc := tls.Client(conn, &tls.Config{ServerName: sni, InsecureSkipVerify: !c.cfg.VerifyCert}) //nolint:gosec // keepalived does not verify either
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake: %s", terse(err, timeout))
		}
		conn = tc
	}
	host := vhost
	if host == "" {
		host = c.cfg.Target.String()
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nUser-Agent: lvsd-healthcheck\r\nHost: %s\r\nConnection: close\r\n\r\n", u.Path, host); err != nil {
		return fail("send request: %s", terse(err, timeout))
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fail("read response: %s", terse(err, timeout))
	}
	defer resp.Body.Close()
	codes := u.StatusCodes
	if len(codes) == 0 {
		codes = DefaultStatusCodes
	}
	if !statusOK(resp.StatusCode, codes) {
		return fail("status %d, want %s", resp.StatusCode, formatRanges(codes))
	}
	if u.Digest == "" {
		return "", true
	}
	h := md5.New()
	if _, err := io.Copy(h, io.LimitReader(resp.Body, maxBody)); err != nil {
		return fail("read body: %s", terse(err, timeout))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != u.Digest {
		return fail("digest %s, want %s", got, u.Digest)
	}
	return "", true
}

func statusOK(code int, ranges []StatusRange) bool {
	for _, r := range ranges {
		if code >= r.Min && code <= r.Max {
			return true
		}
	}
	return false
}

func formatRanges(ranges []StatusRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		if r.Min == r.Max {
			parts[i] = strconv.Itoa(r.Min)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.Min, r.Max)
		}
	}
	return strings.Join(parts, ",")
}
