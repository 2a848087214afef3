package megane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/services"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// AddService registers a service under name and, if Run is serving, starts
// it at once; before Run it starts with the others (like WithService). It
// fails with service.ErrInvalidName, service.ErrDuplicate (the name is
// taken, or its previous service is still stopping) or service.ErrClosed
// (Run has returned). Safe for concurrent use.
func (m *Manager) AddService(name string, svc service.Service, opts ...service.Option) error {
	_, reg, err := m.shared()
	if err != nil {
		return err
	}
	if err := reg.Add(name, svc, opts...); err != nil {
		return fmt.Errorf("megane: add service %q: %w", name, err)
	}
	return nil
}

// RestartService ends the service's current run and starts a new one at
// once (no backoff, no crash counted; a failed service gets a fresh
// restart budget). It returns once the new run has started, with
// service.ErrNotFound for an unknown name, service.ErrNotServing when Run
// is not serving, or ctx's error.
func (m *Manager) RestartService(ctx context.Context, name string) error {
	_, reg, err := m.shared()
	if err != nil {
		return err
	}
	if err := reg.Restart(ctx, name); err != nil {
		return fmt.Errorf("megane: restart service %q: %w", name, err)
	}
	return nil
}

// StopService stops and removes the service: once its Serve has returned,
// its bus address is forgotten (requests fail with bus.ErrNoTarget) and it
// leaves the stats. It returns when that is done, with
// service.ErrNotFound for an unknown name, or ctx's error (the removal
// then completes in the background). The name may be added again later.
func (m *Manager) StopService(ctx context.Context, name string) error {
	_, reg, err := m.shared()
	if err != nil {
		return err
	}
	if err := reg.Stop(ctx, name); err != nil {
		return fmt.Errorf("megane: stop service %q: %w", name, err)
	}
	return nil
}

// Services returns the status of every registered service, sorted by
// name, with Custom filled in from the Stats method of every ready service
// that implements bus.StatsProvider. Those calls run on the services'
// mailbox goroutines, concurrently, and are bounded by ctx: a service that
// does not answer in time, or whose Stats panics (logged), gets no Custom.
// Everything else is read from snapshots and never blocks.
func (m *Manager) Services(ctx context.Context) []service.Info {
	_, reg, err := m.shared()
	if err != nil {
		return nil
	}
	return reg.Stats(ctx)
}

// sharedParts are the store (whose janitor is a goroutine) and the service
// registry, made on first use by shared (Store, AddService, Run), so that
// a Manager that never runs starts nothing. Once made they never change.
type sharedParts struct {
	once   sync.Once
	err    error
	closed atomic.Bool        // Close was called
	made   atomic.Bool        // once has made the store and the registry
	store  *store.Store       // closed when Run returns (or by Close)
	reg    *services.Registry // served by Run
}

// shared returns the store and the service registry, making them (and
// adding the WithService services) on first use. The store's janitor is
// the one goroutine this starts; Run or Close stops it.
func (m *Manager) shared() (*store.Store, *services.Registry, error) {
	p := &m.parts
	p.once.Do(func() {
		defer p.made.Store(true)
		p.store = store.New()
		p.reg = services.NewRegistry(m.bus, p.store, services.WithLogger(m.log), services.WithEventHook(m.onServiceEvent))
		for _, s := range m.cfg.services {
			if err := p.reg.Add(s.name, s.svc, s.opts...); err != nil {
				p.err = fmt.Errorf("megane: service %q: %w", s.name, err)
				return
			}
		}
	})
	if p.closed.Load() {
		return p.store, p.reg, fmt.Errorf("megane: manager closed: %w", service.ErrClosed)
	}
	return p.store, p.reg, p.err
}

// validateServices checks the WithService registrations in New, so that a
// bad name fails there rather than in Run.
func validateServices(specs []serviceSpec) error {
	seen := map[string]bool{}
	for _, s := range specs {
		if s.name == "" || s.svc == nil || bus.Service(s.name).Validate() != nil {
			return fmt.Errorf("megane: service %q: %w", s.name, service.ErrInvalidName)
		}
		if seen[s.name] {
			return fmt.Errorf("megane: service %q: %w", s.name, service.ErrDuplicate)
		}
		seen[s.name] = true
	}
	return nil
}

// onServiceEvent turns a service's state transition into a lifecycle
// Event. It runs on the service's supervisor goroutine and must not block:
// emit only takes the event lock.
func (m *Manager) onServiceEvent(e supervisor.Event) {
	if e.Panic == nil {
		errors.As(e.Err, &e.Panic)
	}
	m.emit(cluster.Event{
		Kind:    cluster.EventServiceState,
		Cluster: -1,
		Shard:   -1,
		Attempt: e.Attempt,
		Err:     e.Err,
		Panic:   e.Panic,
		Service: e.Name,
		State:   e.To.String(),
		At:      e.At,
	})
}

// madeRegistry returns the registry if shared has made it, else nil,
// without making it.
func (m *Manager) madeRegistry() *services.Registry {
	if !m.parts.made.Load() {
		return nil
	}
	_, reg, err := m.shared()
	if err != nil {
		return nil
	}
	return reg
}
