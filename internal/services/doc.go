// Package services is the engine that runs the services of one process:
// the [Registry] that only the Manager (package megane) builds, and through
// which megane.WithService, Manager.AddService, RestartService,
// StopService and Services act. What a service's author and a Manager user
// see (Service, Context, Info, the per-service Options, the errors) is
// package service; the per-service options reach this package as a
// servicelink.Config, and each run's *service.Context is built through the
// internal/servicelink hook.
//
// The registry's state has one owner goroutine: while Serve runs, Serve's
// goroutine applies every command (Add, Restart, Stop,
// NotifyAllClustersReady, a run's first Ready, a unit's end) one at a time
// and answers each on its own one-shot buffered reply channel; before Serve
// and after it the state waits in a channel of capacity 1 and a caller
// applies its command itself (see [Registry]). Each service runs under its
// own supervisor (an internal/supervise Unit) on a goroutine that Serve
// starts and waits for, and reads (Stats) go through atomically published
// snapshots, never through the owner.
//
// What a service sees of this (its mailbox, Ready, the ready timeout,
// commands while it restarts) is documented in package service.
package services
