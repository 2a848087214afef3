// Package shardplan plans a bot's shards: how many it runs, which of them
// this process runs, and how they split into contiguous, even clusters.
// The Manager builds its plans with it from its options (WithShards,
// WithClusters, WithGuildsPerShard, WithShardMultiple) and GET
// /gateway/bot.
package shardplan

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
)

// ErrInvalidPlan matches every *PlanError.
var ErrInvalidPlan = errors.New("shard: invalid shard plan")

// PlanError reports an option of NewPlan that cannot be satisfied. It
// matches ErrInvalidPlan through errors.Is.
type PlanError struct {
	Option string // the option at fault, e.g. "WithShardIDs"
	Value  int    // the offending value
	Reason string
}

// Error implements error.
func (e *PlanError) Error() string {
	return fmt.Sprintf("shard: invalid shard plan: %s(%d): %s", e.Option, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidPlan.
func (e *PlanError) Unwrap() error { return ErrInvalidPlan }

// Plan says how many shards the bot runs, which of them this process runs,
// and which cluster owns each of those. Build it with NewPlan. A Plan is a
// plain value: it may be copied, but copies share the slices, which must not
// be modified.
type Plan struct {
	// Count is the bot's total shard count (sent in IDENTIFY).
	Count int
	// IDs are the shards this process runs, ascending.
	IDs []int
	// Clusters lists the shard IDs of each cluster: contiguous runs of IDs,
	// sizes differing by at most one, the bigger ones first.
	Clusters [][]int
}

// planConfig holds the options of NewPlan.
type planConfig struct {
	count, recommended, guildsPerShard, multipleOf int
	ids                                            []int
	idsOption                                      string
	rangeFirst, rangeLast                          int
	clusters                                       int
	errs                                           []error
}

func defaultPlanConfig() planConfig { return planConfig{} }

// PlanOption configures NewPlan.
type PlanOption func(*planConfig)

// WithShardCount sets the total shard count explicitly. It takes precedence
// over WithRecommended.
func WithShardCount(n int) PlanOption {
	return func(c *planConfig) {
		if n < 1 {
			c.errs = append(c.errs, &PlanError{"WithShardCount", n, "shard count must be at least 1"})
		}
		c.count = n
	}
}

// WithRecommended sets the shard count Discord recommends (the "shards"
// field of /gateway/bot), used when WithShardCount is not given.
func WithRecommended(n int) PlanOption {
	return func(c *planConfig) {
		if n < 1 {
			c.errs = append(c.errs, &PlanError{"WithRecommended", n, "recommended shard count must be at least 1"})
		}
		c.recommended = n
	}
}

// WithGuildsPerShard scales the recommendation: Discord recommends one shard
// per 1000 guilds, so with g guilds per shard the count becomes
// ceil(recommended*1000/g). It has no effect with WithShardCount.
func WithGuildsPerShard(g int) PlanOption {
	return func(c *planConfig) {
		if g < 1 {
			c.errs = append(c.errs, &PlanError{"WithGuildsPerShard", g, "guilds per shard must be at least 1"})
		}
		c.guildsPerShard = g
	}
}

// WithMultipleOf rounds the shard count up to a multiple of n (large bots
// use their max_concurrency, e.g. 16). 0 and 1 leave the count as it is.
func WithMultipleOf(n int) PlanOption {
	return func(c *planConfig) {
		if n < 0 {
			c.errs = append(c.errs, &PlanError{"WithMultipleOf", n, "must not be negative"})
		}
		c.multipleOf = n
	}
}

// WithShardIDs makes this process run only the given shards (multi-host).
// Each must be in [0, count) and appear once. The last of WithShardIDs and
// WithShardRange wins.
func WithShardIDs(ids ...int) PlanOption {
	return func(c *planConfig) {
		c.ids, c.idsOption = slices.Clone(ids), "WithShardIDs"
		if len(ids) == 0 {
			c.errs = append(c.errs, &PlanError{"WithShardIDs", 0, "no shard IDs"})
		}
	}
}

// WithShardRange makes this process run shards first..last inclusive.
func WithShardRange(first, last int) PlanOption {
	return func(c *planConfig) {
		if last < first {
			c.errs = append(c.errs, &PlanError{"WithShardRange", last, fmt.Sprintf("last is below first (%d)", first)})
			return
		}
		c.ids, c.idsOption = nil, "WithShardRange"
		c.rangeFirst, c.rangeLast = first, last
	}
}

// WithClusters sets the number of clusters. 0 (the default) means
// runtime.GOMAXPROCS(0). There are never more clusters than shards.
func WithClusters(n int) PlanOption {
	return func(c *planConfig) {
		if n < 0 {
			c.errs = append(c.errs, &PlanError{"WithClusters", n, "must not be negative"})
		}
		c.clusters = n
	}
}

// NewPlan computes a Plan. The count comes from WithShardCount, else from
// WithRecommended (scaled by WithGuildsPerShard), then rounded up by
// WithMultipleOf. Without either count option, or with bad values, it
// returns an error matching ErrInvalidPlan (a *PlanError, or several joined).
func NewPlan(opts ...PlanOption) (Plan, error) {
	c := defaultPlanConfig()
	for _, opt := range opts {
		opt(&c)
	}
	if len(c.errs) > 0 {
		return Plan{}, errors.Join(c.errs...)
	}
	count := c.count
	if count == 0 {
		if c.recommended == 0 {
			return Plan{}, &PlanError{"WithShardCount", 0, "no shard count: use WithShardCount or WithRecommended"}
		}
		count = c.recommended
		if c.guildsPerShard > 0 {
			count = (c.recommended*1000 + c.guildsPerShard - 1) / c.guildsPerShard
		}
	}
	if m := c.multipleOf; m > 1 && count%m != 0 {
		count += m - count%m
	}

	var ids []int
	switch c.idsOption {
	case "WithShardRange":
		if c.rangeFirst < 0 || c.rangeLast >= count {
			return Plan{}, &PlanError{"WithShardRange", c.rangeFirst, fmt.Sprintf("range %d..%d is outside 0..%d", c.rangeFirst, c.rangeLast, count-1)}
		}
		for id := c.rangeFirst; id <= c.rangeLast; id++ {
			ids = append(ids, id)
		}
	case "WithShardIDs":
		ids = slices.Clone(c.ids)
		slices.Sort(ids)
		for i, id := range ids {
			if id < 0 || id >= count {
				return Plan{}, &PlanError{"WithShardIDs", id, fmt.Sprintf("shard ID outside 0..%d", count-1)}
			}
			if i > 0 && ids[i-1] == id {
				return Plan{}, &PlanError{"WithShardIDs", id, "duplicate shard ID"}
			}
		}
	default:
		ids = make([]int, count)
		for i := range ids {
			ids[i] = i
		}
	}

	n := c.clusters
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return Plan{Count: count, IDs: ids, Clusters: splitClusters(ids, n)}, nil
}

// splitClusters splits ids into n contiguous runs (at most len(ids)), sizes
// differing by at most one, the first runs taking the leftovers.
func splitClusters(ids []int, n int) [][]int {
	n = min(n, len(ids))
	if n < 1 {
		return nil
	}
	out := make([][]int, n)
	base, extra := len(ids)/n, len(ids)%n
	start := 0
	for i := range out {
		size := base
		if i < extra {
			size++
		}
		out[i] = ids[start : start+size : start+size]
		start += size
	}
	return out
}

// ClusterOf returns the cluster that owns shardID, and false if this
// process does not run that shard. Cost: O(log shards).
func (p Plan) ClusterOf(shardID int) (int, bool) {
	i, found := slices.BinarySearchFunc(p.Clusters, shardID, func(c []int, id int) int {
		switch {
		case c[len(c)-1] < id:
			return -1
		case c[0] > id:
			return 1
		}
		return 0
	})
	if !found {
		return 0, false
	}
	if _, ok := slices.BinarySearch(p.Clusters[i], shardID); !ok {
		return 0, false
	}
	return i, true
}
