package megane

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
)

// limitSetter is a Queue that takes fresh figures from GET /gateway/bot
// (shard.LocalQueue does).
type limitSetter interface {
	SetLimit(maxConcurrency, total, remaining int, resetAfter time.Duration)
}

// applyLimit hands the session start limit of a fresh GET /gateway/bot
// answer to the identify queue, so that its budget follows Discord's
// figures (identifies spent by another process with the same token, a
// reset, a new max_concurrency) instead of only its own count.
func (m *Manager) applyLimit(rt *runState, gb *discord.GatewayBot) {
	ls, ok := rt.queue.(limitSetter)
	if !ok {
		return
	}
	sl := gb.SessionStartLimit
	ls.SetLimit(sl.MaxConcurrency, sl.Total, sl.Remaining, time.Duration(sl.ResetAfter)*time.Millisecond)
	m.setBudgetTotal(sl.Total)
	m.log.Debug("identify limits refreshed from GET /gateway/bot",
		slog.Int("max_concurrency", sl.MaxConcurrency), slog.Int("total", sl.Total),
		slog.Int("remaining", sl.Remaining), slog.Duration("reset_after", time.Duration(sl.ResetAfter)*time.Millisecond))
}

// limitRetry is how long refreshLimits waits after a failed GET
// /gateway/bot before it asks again.
const limitRetry = time.Minute

// refreshLimits asks GET /gateway/bot for the session start limit again
// each time it has reset (a second after reset_after, then after each new
// reset_after), until ctx ends. Re-shards refresh it too
// (recommendedPlan).
func (m *Manager) refreshLimits(ctx context.Context, rt *runState, resetAfter time.Duration) {
	timer := time.NewTimer(resetAfter + time.Second)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		gb, err := m.gatewayBot(ctx, rt.rest)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.log.Warn("refreshing the identify limits failed; retrying", slog.String("err", err.Error()),
				slog.Duration("retry", limitRetry))
			timer.Reset(limitRetry)
			continue
		}
		m.applyLimit(rt, gb)
		timer.Reset(time.Duration(gb.SessionStartLimit.ResetAfter)*time.Millisecond + time.Second)
	}
}
