package daemon

import (
	"net/netip"
	"syscall"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
)

// healthConfig maps the typed config to the health checker's own structs.
func healthConfig(vss []config.VirtualServer, cred *syscall.Credential) []healthcheck.VirtualServer {
	out := make([]healthcheck.VirtualServer, 0, len(vss))
	for i := range vss {
		vs := &vss[i]
		h := healthcheck.VirtualServer{
			Name:       config.ServiceID(vs), // identity: a reload finds it again
			DelayLoop:  vs.DelayLoop,
			Alpha:      vs.Alpha,
			Quorum:     vs.Quorum,
			Hysteresis: vs.Hysteresis,
			QuorumUp:   vs.QuorumUp,
			QuorumDown: vs.QuorumDown,
		}
		if vs.SorryServer != nil {
			h.SorryServer = *vs.SorryServer
		}
		for _, rs := range vs.RealServers {
			hr := healthcheck.RealServer{
				Address:          rs.Addr,
				Weight:           rs.Weight,
				InhibitOnFailure: rs.InhibitOnFailure,
				NotifyUp:         rs.NotifyUp,
				NotifyDown:       rs.NotifyDown,
			}
			for _, c := range rs.Checks {
				hr.Checks = append(hr.Checks, healthCheck(&c, cred))
			}
			h.RealServers = append(h.RealServers, hr)
		}
		out = append(out, h)
	}
	return out
}

func healthCheck(c *config.Check, cred *syscall.Credential) healthcheck.Check {
	// Every value is resolved by the config (defaults, inheritance): used as written.
	hc := healthcheck.Check{
		DelayLoop:        c.DelayLoop,
		Retry:            c.Retry,
		DelayBeforeRetry: c.DelayBeforeRetry,
		Warmup:           c.Warmup,
	}
	conn := healthcheck.ConnOpts{BindTo: c.BindTo, ConnectTimeout: c.ConnectTimeout}
	conn.Target = netip.AddrPortFrom(c.ConnectIP, c.ConnectPort)
	switch c.Kind {
	case config.CheckTCP:
		hc.TCP = &healthcheck.TCPConfig{ConnOpts: conn}
	case config.CheckHTTP, config.CheckSSL:
		h := &healthcheck.HTTPConfig{ConnOpts: conn, TLS: c.Kind == config.CheckSSL, VirtualHost: c.Virtualhost, EnableSNI: c.EnableSNI}
		for _, u := range c.URLs {
			hu := healthcheck.URL{Path: u.Path, Digest: u.Digest, VirtualHost: u.Virtualhost}
			for _, r := range u.StatusCodes {
				hu.StatusCodes = append(hu.StatusCodes, healthcheck.StatusRange{Min: r.Min, Max: r.Max})
			}
			h.URLs = append(h.URLs, hu)
		}
		hc.HTTP = h
	case config.CheckMisc:
		hc.Misc = &healthcheck.MiscConfig{Path: c.MiscPath, Timeout: c.MiscTimeout, Dynamic: c.MiscDynamic, Cred: cred}
	}
	return hc
}
