package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/supervisor"
)

// teardown ends the attempt. How depends on why:
//   - a restart with cluster.RestartFull, a fatal error, or the end of Serve's
//     context: shards close with 1000 and nothing is kept;
//   - a restart with cluster.RestartResume, or a crash: shards close with 4000 and
//     their sessions (at the last event handed to the worker) and the cache
//     are kept for the next attempt.
//
// It returns cause.
func (a *attempt) teardown(cause error) error {
	resume := a.leave(cause)
	a.exec.abandon()
	a.closeShards(resume)
	var saved *savedSession
	if resume {
		saved = a.session()
	}
	a.stopWorkers()
	a.closeVoice()
	reply := make(chan struct{}, 1)
	ask(a.c, endedCmd{saved: saved, reply: reply}, reply)
	return cause
}

// leave takes the attempt off the cluster: not ready, its watchdog
// stopped, its mailbox detached (requests fail fast with
// bus.ErrTargetStopped from now on; the mailbox goroutine returns after its
// current handler). It reports whether the sessions are to be kept.
func (a *attempt) leave(cause error) (resume bool) {
	reply := make(chan ending, 1)
	end := ask(a.c, endingCmd{mb: a.mailbox, reply: reply}, reply)
	switch {
	case cause != nil:
		resume = !errors.Is(cause, supervisor.ErrNoRestart) && !IsFatal(cause)
	case end.stopping:
		// Serve's context ended: the cluster stops and its sessions end.
	case a.ctx.Err() != nil:
		// A restart cancelled the attempt: only a full one ends the sessions.
		resume = end.kind != cluster.RestartFull
	}
	close(a.stop)
	if a.mailbox != nil {
		a.mailbox.Detach()
	}
	return resume
}

// closeShards closes the attempt's shards, with 4000 to keep their
// sessions or 1000 to end them, within the drain timeout, and adds their
// counters to the cluster's past.
func (a *attempt) closeShards(resume bool) {
	code, reason := 1000, "shutting down"
	if resume {
		code, reason = 4000, "restarting"
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), a.c.cfg.drainTimeout)
	a.shards.CloseWithCode(closeCtx, code, reason)
	cancel()
	reply := make(chan struct{}, 1)
	ask(a.c, countedCmd{final: a.shards.Stats(), reply: reply}, reply)
}

// session is what the next attempt resumes from: the shards' sessions,
// each at the last event handed to the worker (Discord replays the rest),
// and the client's cache.
func (a *attempt) session() *savedSession {
	saved := &savedSession{states: a.shards.States(), caches: a.client.Caches}
	for id, st := range saved.states {
		if st.SessionID == "" {
			continue
		}
		// A session whose READY the executor never took (the shard
		// identified again just before the attempt ended) resumes from
		// its start, so that its READY and all that followed are
		// replayed.
		if seq, ok := a.exec.deliveredIn(id, st.SessionID); ok && seq < st.Seq {
			st.Seq = seq
			saved.states[id] = st
		}
	}
	return saved
}

// stopWorkers stops the attempt's workers: it cancels their contexts so
// listeners that watch them return, waits for the attempt's goroutines
// (bounded by the drain timeout), then runs the current worker's
// Shutdown.
func (a *attempt) stopWorkers() {
	c := a.c
	a.end()
	inc := c.fwd.cur.Load()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		a.wg.Wait()
	}()
	timer := time.NewTimer(c.cfg.drainTimeout)
	select {
	case <-drained:
		timer.Stop()
	case <-timer.C:
		a.log.Error("a listener did not return within the drain timeout; abandoning its goroutine",
			slog.Duration("timeout", c.cfg.drainTimeout))
	}
	if inc != nil && inc.att == a {
		a.shutdown(inc)
		c.fwd.cur.CompareAndSwap(inc, nil)
	}
}

// closeVoice closes the attempt's voice connections. The REST client is
// shared and stays open; only voice belongs to the attempt's client.
func (a *attempt) closeVoice() {
	closeCtx, cancel := context.WithTimeout(context.Background(), a.c.cfg.shutdownTimeout)
	defer cancel()
	if a.client.VoiceManager != nil {
		a.client.VoiceManager.Close(closeCtx)
	}
}
