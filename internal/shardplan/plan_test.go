package shardplan

import (
	"errors"
	"runtime"
	"slices"
	"testing"
)

func TestNewPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []PlanOption
		count    int
		ids      []int
		clusters [][]int
	}{
		{"10 shards in 3 clusters", []PlanOption{WithShardCount(10), WithClusters(3)}, 10,
			[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, [][]int{{0, 1, 2, 3}, {4, 5, 6}, {7, 8, 9}}},
		{"more clusters than shards", []PlanOption{WithShardCount(2), WithClusters(5)}, 2,
			[]int{0, 1}, [][]int{{0}, {1}}},
		{"recommended", []PlanOption{WithRecommended(3), WithClusters(1)}, 3,
			[]int{0, 1, 2}, [][]int{{0, 1, 2}}},
		{"explicit count wins", []PlanOption{WithRecommended(3), WithShardCount(4), WithClusters(2)}, 4,
			[]int{0, 1, 2, 3}, [][]int{{0, 1}, {2, 3}}},
		{"guilds per shard", []PlanOption{WithRecommended(3), WithGuildsPerShard(2500), WithClusters(1)}, 2,
			[]int{0, 1}, [][]int{{0, 1}}},
		{"guilds per shard rounds up", []PlanOption{WithRecommended(5), WithGuildsPerShard(600), WithClusters(1)}, 9,
			[]int{0, 1, 2, 3, 4, 5, 6, 7, 8}, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8}}},
		{"multiple of", []PlanOption{WithRecommended(17), WithMultipleOf(16), WithShardIDs(31, 0), WithClusters(2)}, 32,
			[]int{0, 31}, [][]int{{0}, {31}}},
		{"multiple of, already round", []PlanOption{WithShardCount(32), WithMultipleOf(16), WithShardRange(16, 19), WithClusters(3)}, 32,
			[]int{16, 17, 18, 19}, [][]int{{16, 17}, {18}, {19}}},
		{"shard IDs sorted", []PlanOption{WithShardCount(8), WithShardIDs(7, 2, 5), WithClusters(2)}, 8,
			[]int{2, 5, 7}, [][]int{{2, 5}, {7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewPlan(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != tt.count || !slices.Equal(p.IDs, tt.ids) || !slices.EqualFunc(p.Clusters, tt.clusters, slices.Equal) {
				t.Fatalf("got %+v, want {Count:%d IDs:%v Clusters:%v}", p, tt.count, tt.ids, tt.clusters)
			}
			for c, ids := range p.Clusters {
				for _, id := range ids {
					if got, ok := p.ClusterOf(id); !ok || got != c {
						t.Fatalf("ClusterOf(%d) = %d, %v; want %d", id, got, ok, c)
					}
				}
			}
		})
	}
}

func TestNewPlanDefaultClusters(t *testing.T) {
	t.Parallel()
	p, err := NewPlan(WithShardCount(1000))
	if err != nil {
		t.Fatal(err)
	}
	if want := min(runtime.GOMAXPROCS(0), 1000); len(p.Clusters) != want {
		t.Fatalf("%d clusters, want GOMAXPROCS = %d", len(p.Clusters), want)
	}
}

func TestNewPlanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   []PlanOption
		option string
	}{
		{"no count", nil, "WithShardCount"},
		{"count 0", []PlanOption{WithShardCount(0)}, "WithShardCount"},
		{"negative count", []PlanOption{WithShardCount(-2)}, "WithShardCount"},
		{"recommended 0", []PlanOption{WithRecommended(0)}, "WithRecommended"},
		{"guilds per shard 0", []PlanOption{WithRecommended(2), WithGuildsPerShard(0)}, "WithGuildsPerShard"},
		{"negative multiple", []PlanOption{WithShardCount(2), WithMultipleOf(-16)}, "WithMultipleOf"},
		{"negative clusters", []PlanOption{WithShardCount(2), WithClusters(-1)}, "WithClusters"},
		{"id out of range", []PlanOption{WithShardCount(4), WithShardIDs(1, 4)}, "WithShardIDs"},
		{"negative id", []PlanOption{WithShardCount(4), WithShardIDs(-1)}, "WithShardIDs"},
		{"duplicate id", []PlanOption{WithShardCount(4), WithShardIDs(2, 1, 2)}, "WithShardIDs"},
		{"no ids", []PlanOption{WithShardCount(4), WithShardIDs()}, "WithShardIDs"},
		{"range out of count", []PlanOption{WithShardCount(4), WithShardRange(2, 4)}, "WithShardRange"},
		{"range reversed", []PlanOption{WithShardCount(4), WithShardRange(3, 1)}, "WithShardRange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewPlan(tt.opts...)
			if !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("NewPlan = %+v, %v; want ErrInvalidPlan", p, err)
			}
			var pe *PlanError
			if !errors.As(err, &pe) || pe.Option != tt.option {
				t.Fatalf("err = %v, want a *PlanError for %s", err, tt.option)
			}
		})
	}
}

// TestSplitClustersProperties checks every (shards, clusters) pair up to
// 200×40: each shard appears exactly once, in order, in contiguous runs whose
// sizes differ by at most one with the bigger runs first.
func TestSplitClustersProperties(t *testing.T) {
	t.Parallel()
	for shards := 1; shards <= 200; shards++ {
		for clusters := 1; clusters <= 40; clusters++ {
			p, err := NewPlan(WithShardCount(shards), WithClusters(clusters))
			if err != nil {
				t.Fatal(err)
			}
			if want := min(shards, clusters); len(p.Clusters) != want {
				t.Fatalf("%d/%d: %d clusters, want %d", shards, clusters, len(p.Clusters), want)
			}
			next := 0
			for c, ids := range p.Clusters {
				if len(ids) == 0 {
					t.Fatalf("%d/%d: cluster %d is empty", shards, clusters, c)
				}
				for _, id := range ids {
					if id != next {
						t.Fatalf("%d/%d: cluster %d holds %d, want %d (contiguous, each once)", shards, clusters, c, id, next)
					}
					next++
				}
				if c > 0 {
					prev := len(p.Clusters[c-1])
					if len(ids) > prev || prev-len(ids) > 1 {
						t.Fatalf("%d/%d: cluster sizes %d then %d", shards, clusters, prev, len(ids))
					}
				}
			}
			if next != shards {
				t.Fatalf("%d/%d: %d shards placed, want %d", shards, clusters, next, shards)
			}
			first, last := len(p.Clusters[0]), len(p.Clusters[len(p.Clusters)-1])
			if first-last > 1 {
				t.Fatalf("%d/%d: sizes from %d down to %d", shards, clusters, first, last)
			}
		}
	}
}

func TestClusterOfUnknownShard(t *testing.T) {
	t.Parallel()
	p, err := NewPlan(WithShardCount(10), WithShardIDs(1, 3, 8), WithClusters(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{-1, 0, 2, 4, 7, 9, 10} {
		if c, ok := p.ClusterOf(id); ok {
			t.Errorf("ClusterOf(%d) = %d, true; want false", id, c)
		}
	}
	if _, ok := (Plan{}).ClusterOf(0); ok {
		t.Error("the zero Plan owns shard 0")
	}
}
