package clients

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrInsecureEndpoint means an endpoint would carry credentials in clear text over a network:
// plain http to a host that is not this machine, without the user's opt-in.
var ErrInsecureEndpoint = errors.New("insecure endpoint")

// CheckEndpoint decides whether credentials may be sent to endpoint. https is always fine;
// http only to a loopback host (localhost, 127.0.0.0/8, ::1), where nothing crosses a network,
// or when allowInsecure says the user accepts the risk. Any other scheme, or a URL that is not
// absolute, is refused. The error for an http endpoint wraps ErrInsecureEndpoint.
func CheckEndpoint(endpoint string, allowInsecure bool) error {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an absolute URL such as https://api.example.com/v1", endpoint)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowInsecure || IsLoopbackHost(u.Hostname()) {
			return nil
		}
		// The host alone is named: a URL may carry user:password, which must not be repeated.
		return fmt.Errorf("%w: endpoint uses plain http to %s, which is not this machine: the API key would travel in clear text", ErrInsecureEndpoint, u.Hostname())
	default:
		return fmt.Errorf("endpoint scheme %q is not supported: use https (or http to localhost)", u.Scheme)
	}
}

// IsLoopbackHost reports whether host (a URL's host without port or brackets) names this
// machine: "localhost" or a loopback address. Other names are not resolved: what a name
// resolves to can change between this check and the request.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
