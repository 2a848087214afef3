package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/clusterlink"
	"github.com/megane-go/megane/store"
)

// Bus returns the message bus the cluster's mailbox is attached to (see
// [WithBus]); it is never nil. The cluster's own address is
// [Cluster.Address]. To call another cluster or a service, use the bus
// package with it, for example:
//
//	n, err := bus.Request[int](ctx, c.Bus(), c.Address(), bus.Service("counter"), "incr", 1)
//	res := bus.Broadcast[string](ctx, c.Bus(), c.Address(), bus.AllClusters(), "ping", nil)
//
// or the typed helpers [Cluster.FetchGuild], [Cluster.FetchChannel],
// [Cluster.FetchUser] and [Cluster.FetchUsers].
func (c *Cluster) Bus() *bus.Bus { return c.bus }

// Store returns the central store shared by the process (see [WithStore]),
// or nil if the cluster has none. Values in it are shared, not copied.
func (c *Cluster) Store() *store.Store { return c.store }

// Address returns the cluster's bus address, bus.Cluster(ID()).
func (c *Cluster) Address() bus.Address { return bus.Cluster(c.id) }

// announce makes the cluster known to the bus, detached: until its first
// attempt is ready, requests to it fail with bus.ErrTargetStopped (retry
// later) rather than bus.ErrNoTarget, and broadcasts list it as stopped.
func (c *Cluster) announce() error {
	mb, err := c.bus.Attach(c.Address(), nil)
	if err != nil {
		return fmt.Errorf("cluster %d: bus: %w", c.id, err)
	}
	mb.Detach()
	return nil
}

// attachMailbox attaches the attempt's mailbox and starts the goroutine
// that drains it, owned by the attempt (a.wg). It runs on the attempt's
// goroutine as the attempt becomes ready; teardown detaches it.
func (a *attempt) attachMailbox() error {
	c := a.c
	opts := []bus.MailboxOption{bus.WithEvalTarget(c.face)}
	if c.cfg.mailboxCapacity > 0 {
		opts = append(opts, bus.WithCapacity(c.cfg.mailboxCapacity))
	}
	reply := make(chan attached, 1)
	at := ask(c, attachCmd{opts: opts, reply: reply}, reply)
	if at.err != nil || at.mb == nil {
		// An error is fatal; no mailbox means the address belongs to a
		// successor now (ReleaseBus).
		return at.err
	}
	a.mailbox = at.mb
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.serveMailbox(at.mb)
	}()
	return nil
}

// serveMailbox drains mb until the attempt ends or mb is detached. The
// mailbox recovers a panicking handler itself (a worker's command handler or
// Stats, an eval): the requester gets an error matching
// bus.ErrHandlerPanic and the cluster keeps running. A panic that still
// reaches this goroutine comes from the bus itself and crashes the cluster.
func (a *attempt) serveMailbox(mb *bus.Mailbox) {
	defer func() {
		if r := recover(); r != nil {
			a.crash(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	if err := mb.Serve(a.ctx); err != nil && a.ctx.Err() == nil {
		a.log.Error("bus mailbox stopped", slog.String("err", err.Error()))
	}
}

// busHandler routes the cluster's bus messages: Megane's own topics to the
// cache and the stats, every other topic to the worker's bus.Handler.
// It runs on the mailbox goroutine, one message at a time.
type busHandler struct{ c *Cluster }

var _ bus.Handler = busHandler{}

// HandleMessage implements bus.Handler.
func (h busHandler) HandleMessage(ctx context.Context, msg *bus.Message) (any, error) {
	c := h.c
	switch msg.Topic {
	case clusterlink.TopicStats:
		return c.workerStats()
	case clusterlink.TopicFetchGuild, clusterlink.TopicFetchChannel, clusterlink.TopicFetchUser, clusterlink.TopicFetchUsers:
		req, err := decodePayload[FetchRequest](msg)
		if err != nil {
			return nil, err
		}
		return c.answerFetch(msg.Topic, req)
	}
	if strings.HasPrefix(msg.Topic, cluster.ReservedTopicPrefix) {
		return nil, fmt.Errorf("%w: %q at %s", bus.ErrUnknownTopic, msg.Topic, c.Address())
	}
	if err := c.maintenanceReply(); err != nil {
		return nil, err
	}
	w, err := c.liveWorker()
	if err != nil {
		return nil, err
	}
	wh, ok := w.(bus.Handler)
	if !ok {
		return nil, fmt.Errorf("%w: %q at %s (the worker is no bus.Handler)", bus.ErrUnknownTopic, msg.Topic, c.Address())
	}
	return wh.HandleMessage(ctx, msg)
}

// liveWorker returns the worker of the current incarnation, or an error
// matching bus.ErrTargetStopped while none runs (a worker-only reload is
// swapping it).
func (c *Cluster) liveWorker() (Worker, error) {
	inc := c.fwd.cur.Load()
	if inc == nil || inc.dead.Load() {
		return nil, fmt.Errorf("cluster %d: no worker running: %w", c.id, bus.ErrTargetStopped)
	}
	return inc.worker, nil
}

// workerStats returns the current worker's StatsProvider figures, or nil.
func (c *Cluster) workerStats() (map[string]any, error) {
	w, err := c.liveWorker()
	if err != nil {
		return nil, err
	}
	if sp, ok := w.(bus.StatsProvider); ok {
		return sp.Stats(), nil
	}
	return nil, nil
}

// decodePayload takes a T from a message's payload: a T or *T as is (in
// process), or its JSON (json.RawMessage or []byte, as it would arrive
// from another host); JSON that does not decode matches
// bus.ErrInvalidPayload, as it does for a bus.Handle function.
func decodePayload[T any](msg *bus.Message) (T, error) {
	var zero T
	switch v := msg.Payload.(type) {
	case T:
		return v, nil
	case *T:
		if v != nil {
			return *v, nil
		}
		return zero, nil
	case nil:
		return zero, nil
	case json.RawMessage:
		return decodeJSON[T](v)
	case []byte:
		return decodeJSON[T](v)
	}
	return zero, &bus.TypeError{Target: msg.To, Topic: msg.Topic, Want: fmt.Sprintf("%T", zero), Got: fmt.Sprintf("%T", msg.Payload)}
}

func decodeJSON[T any](data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("%w: %w", bus.ErrInvalidPayload, err)
	}
	return v, nil
}
