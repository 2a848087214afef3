package service

import (
	"context"

	"github.com/megane-go/megane/bus"
)

// Command sends the command name with payload to the service called service
// and waits for its reply, which must be a Resp: it is bus.Request to
// bus.Service(service) with name as the topic. from is the sender (for
// example bus.Cluster(id)).
//
// Errors are the bus's: bus.ErrNoTarget (no such service, or it was
// stopped), bus.ErrTargetStopped (it is restarting), bus.ErrTimeout,
// bus.ErrUnknownTopic (it implements no CommandHandler), a *bus.HandlerError
// (HandleCommand failed; in-process it unwraps to the original error; if it
// panicked, the error matches bus.ErrHandlerPanic, carries the stack, and
// the service keeps running) and a *bus.TypeError (the reply is not a Resp). A command sent while a run is
// starting waits until the run is ready, or until ctx ends.
func Command[Resp any](ctx context.Context, b *bus.Bus, from bus.Address, service, name string, payload any) (Resp, error) {
	return bus.Request[Resp](ctx, b, from, bus.Service(service), name, payload)
}
