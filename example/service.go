package main

import (
	"context"
	"sync/atomic"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/service"
)

// pingService is the name of the ping counter service on the bus.
const pingService = "pings"

// The commands of the ping counter service.
const (
	cmdIncr  = "incr"  // count one answered !ping; replies the new total (int64)
	cmdCount = "count" // reply the total (int64)
)

// pingCounter is a service: it counts the !ping commands answered by every
// cluster of the process. Clusters reach it over the bus with bus.Request
// to bus.Service(pingService) (see busBackend.pings); its embedded bus.Mux
// makes it a bus.Handler, with one typed function per command. The same
// value serves every run of the service, so the count survives a restart
// of the service; the commands and Stats run on the service's one mailbox
// goroutine, concurrently with Serve, hence the atomic.
type pingCounter struct {
	bus.Mux
	n atomic.Int64
}

var (
	_ service.Service   = (*pingCounter)(nil)
	_ bus.Handler       = (*pingCounter)(nil)
	_ bus.StatsProvider = (*pingCounter)(nil)
)

// newPingCounter returns a pingCounter with its commands registered: they
// are registered once, since the same value serves every run.
func newPingCounter() *pingCounter {
	p := &pingCounter{}
	bus.Handle(&p.Mux, cmdIncr, func(context.Context, struct{}) (int64, error) { return p.n.Add(1), nil })
	bus.Handle(&p.Mux, cmdCount, func(context.Context, struct{}) (int64, error) { return p.n.Load(), nil })
	return p
}

// Serve is ready at once and runs until ctx ends.
func (p *pingCounter) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

// Stats adds the total to the service's stats (megane_service_custom).
func (p *pingCounter) Stats() map[string]any {
	return map[string]any{"pings": p.n.Load()}
}
