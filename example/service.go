package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

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
// cluster of the process. Clusters reach it over the bus with
// service.Command (see pingBot.reply). The same value serves every run of
// the service, so the count survives a restart of the service; HandleCommand
// and Stats run on the service's one mailbox goroutine, concurrently with
// Serve, hence the atomic.
type pingCounter struct {
	n atomic.Int64
}

var (
	_ service.Service        = (*pingCounter)(nil)
	_ service.CommandHandler = (*pingCounter)(nil)
	_ service.StatsProvider  = (*pingCounter)(nil)
)

// errUnknownCommand is returned for a command the service does not know.
var errUnknownCommand = errors.New("example: unknown command")

// Serve is ready at once and runs until ctx ends.
func (p *pingCounter) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

// HandleCommand answers cmdIncr and cmdCount.
func (p *pingCounter) HandleCommand(_ context.Context, name string, _ json.RawMessage) (any, error) {
	switch name {
	case cmdIncr:
		return p.n.Add(1), nil
	case cmdCount:
		return p.n.Load(), nil
	}
	return nil, fmt.Errorf("%w %q for service %s", errUnknownCommand, name, pingService)
}

// Stats adds the total to the service's stats (megane_service_custom).
func (p *pingCounter) Stats() map[string]any {
	return map[string]any{"pings": p.n.Load()}
}
