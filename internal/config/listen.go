package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// metricsListen reads global.metrics_listen: HOST:PORT with a numeric port, where HOST is
// an IP address, a name, or empty for every address.
func (s *sink) metricsListen(b *rawBlock) string {
	v, a, ok := s.str(b, "metrics_listen")
	if !ok {
		return ""
	}
	if err := CheckListenAddress(v); err != nil {
		s.errAt(a.Range, "metrics_listen: %v", err)
		return ""
	}
	return v
}

// CheckListenAddress checks a HOST:PORT to listen on (the --metrics-listen flag shares it).
func CheckListenAddress(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (e.g. \"127.0.0.1:9650\" or \"[::1]:9650\")", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be a number from 1 to 65535", v)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q: %q is not an address or host name", v, host)
	}
	return nil
}
