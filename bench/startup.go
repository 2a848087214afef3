package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
)

// restartTiming is one restart's duration and the identifies it spent.
type restartTiming struct {
	Seconds         float64 `json:"s"`
	Identifies      int64   `json:"identifies"`
	Resumes         int64   `json:"resumes"`
	InvalidSessions int64   `json:"invalid_sessions"` // op 9 sent by the fake (bucket breaches among them)
	BucketBreaches  int64   `json:"bucket_breaches"`
}

// startupResult is one startup-and-restart probe of a megane.Manager.
type startupResult struct {
	ReadyS   float64                  `json:"all_ready_s"`
	Start    restartTiming            `json:"start"` // the counters of the first start
	Restarts map[string]restartTiming `json:"restarts"`
}

// restartKinds are the restarts measured, in order.
var restartKinds = []struct {
	name    string
	kind    cluster.RestartKind
	rolling bool
}{
	{"worker", cluster.RestartWorker, false},
	{"resume", cluster.RestartResume, false},
	{"full", cluster.RestartFull, false},
	{"rolling_resume", cluster.RestartResume, true},
	{"rolling_full", cluster.RestartFull, true},
}

// runStartupChild times a megane.Manager from Run to AllClustersReady,
// then each kind of restart of cluster 0 and rolling restarts of all
// clusters, with the identifies and resumes each spent (from the fake's
// counters).
func runStartupChild(spec partySpec) (startupResult, error) {
	installEngine(spec.Engine)
	ready := make(chan struct{})
	var once sync.Once
	hook := func(e cluster.Event) {
		if e.Kind == cluster.EventAllReady {
			once.Do(func() { close(ready) })
		}
	}
	ctx, cancel := withTimeout(5 * time.Minute)
	defer cancel()
	ctl := newControl(spec.Fake.Control)
	first, err := ctl.counters()
	if err != nil {
		return startupResult{}, err
	}
	begin := time.Now()
	log := slog.New(slog.DiscardHandler)
	if spec.Debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := startMegane(ctx, spec, newCounter(spec.Shards), log, hook)
	if err != nil {
		return startupResult{}, err
	}
	defer p.stop()
	select {
	case <-ready:
	case <-ctx.Done():
		return startupResult{}, fmt.Errorf("waiting for all clusters ready: %w", ctx.Err())
	}
	res := startupResult{ReadyS: time.Since(begin).Seconds(), Restarts: map[string]restartTiming{}}
	now, err := ctl.counters()
	if err != nil {
		return res, err
	}
	res.Start = delta(time.Duration(res.ReadyS*float64(time.Second)), first, now)
	if spec.Bench.StartOnly {
		return res, nil
	}
	for _, k := range restartKinds {
		t, err := timeRestart(ctx, ctl, p.manager, k.kind, k.rolling)
		if err != nil {
			return res, fmt.Errorf("restart %s: %w", k.name, err)
		}
		res.Restarts[k.name] = t
	}
	return res, nil
}

// timeRestart times one restart of cluster 0 (or a rolling restart).
func timeRestart(ctx context.Context, ctl control, m *megane.Manager, kind cluster.RestartKind, rolling bool) (restartTiming, error) {
	before, err := ctl.counters()
	if err != nil {
		return restartTiming{}, err
	}
	begin := time.Now()
	if rolling {
		err = m.RollingRestart(ctx, kind)
	} else {
		err = m.Restart(ctx, 0, kind)
	}
	d := time.Since(begin)
	if err != nil {
		return restartTiming{}, err
	}
	after, err := ctl.counters()
	if err != nil {
		return restartTiming{}, err
	}
	return delta(d, before, after), nil
}

// delta is what the fake counted between two snapshots.
func delta(d time.Duration, before, after discordtest.Counters) restartTiming {
	return restartTiming{
		Seconds:         d.Seconds(),
		Identifies:      after.Identifies - before.Identifies,
		Resumes:         after.Resumes - before.Resumes,
		InvalidSessions: after.InvalidSessions - before.InvalidSessions,
		BucketBreaches:  after.BucketBreaches - before.BucketBreaches,
	}
}
