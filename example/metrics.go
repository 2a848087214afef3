package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/megane-go/megane"
)

// metricsServer serves the Manager's stats as Prometheus metrics on
// /metrics. It owns one goroutine, the HTTP server's, which stops on close.
type metricsServer struct {
	srv  *http.Server
	addr string // the bound address, HOST:PORT
	done chan error
}

// startMetrics listens on addr and serves /metrics from m's Prometheus
// collector. It returns once the listener is bound.
func startMetrics(addr string, m *megane.Manager) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("example: listen for -metrics: %w", err)
	}
	reg, err := newRegistry(m)
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s := &metricsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// newRegistry returns a registry of m's metrics and the standard Go and
// process collectors (goroutines, heap, GC, CPU, open files), which the
// Manager leaves to them.
func newRegistry(m *megane.Manager) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		m.PrometheusCollector(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("example: register the metrics: %w", err)
		}
	}
	return reg, nil
}

// close stops the server, waiting up to 5 s for scrapes in progress.
func (s *metricsServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// checkLoopback accepts only a loopback HOST:PORT for the flag named
// flagName: the metrics and the status page are not for the network, so
// the example never serves them there.
func checkLoopback(flagName, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: -%s %q: %v", errBadFlag, flagName, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: -%s %q is not a loopback address (such as 127.0.0.1:9090)", errBadFlag, flagName, addr)
	}
	return nil
}
