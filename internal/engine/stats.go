package engine

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/clusterlink"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// Stats returns the cluster's figures. The worker's Stats method is asked
// through the cluster's mailbox (so it runs on the mailbox goroutine, one
// message at a time with commands; a panic in it is logged at error level
// with its stack, and Custom stays nil); ctx bounds that wait. Everything
// else is read directly and never blocks for long. Counting Users costs one
// pass over the member cache.
// Stats is safe for concurrent use.
func (c *Cluster) Stats(ctx context.Context) Stats {
	st := Stats{ID: c.id, Status: c.Status(), Restarts: c.Restarts(), LastError: c.LastError()}
	st.Ready = st.Status == supervisor.StateReady
	v := c.view.Load()
	a := v.att
	live := a != nil && !v.counted
	past := maps.Clone(v.past)
	if live {
		for _, s := range a.shards.Stats() {
			st.Shards = append(st.Shards, s.Add(past[s.ShardID]))
			delete(past, s.ShardID)
		}
	}
	for id, p := range past {
		st.Shards = append(st.Shards, shard.Stats{ShardID: id, Status: gateway.StatusDisconnected}.Add(p))
	}
	c.maintenanceStats(&st, a)
	slices.SortFunc(st.Shards, func(x, y shard.Stats) int { return x.ShardID - y.ShardID })
	if a != nil {
		caches := a.client.Caches
		st.Guilds = caches.GuildsLen()
		st.Channels = caches.ChannelsLen()
		st.Members = caches.MembersAllLen()
		users := make(map[snowflake.ID]struct{}, st.Members)
		for g := range caches.Guilds() {
			for m := range caches.Members(g.ID) {
				users[m.User.ID] = struct{}{}
			}
		}
		st.Users = len(users)
	}
	if st.Ready {
		custom, err := bus.Request[map[string]any](ctx, c.bus, bus.Address{}, c.Address(), clusterlink.TopicStats, nil)
		var he *bus.HandlerError
		switch {
		case errors.As(err, &he) && len(he.Stack) > 0:
			c.log.Error("worker Stats panicked", slog.String("panic", he.Msg), slog.String("stack", string(he.Stack)))
		case err != nil:
			c.log.Debug("worker stats unavailable", slog.String("err", err.Error()))
		}
		st.Custom = custom
	}
	return st
}
