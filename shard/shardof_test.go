package shard

import (
	"testing"

	"github.com/disgoorg/snowflake/v2"
)

func TestShardOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		guild snowflake.ID
		count int
		want  int
	}{
		{0, 1, 0},
		{41771983423143937, 1, 0},
		{41771983423143937, 16, int((uint64(41771983423143937) >> 22) % 16)},
		{1 << 22, 2, 1},
		{5 << 22, 4, 1},
		{^snowflake.ID(0), 1000, int((^uint64(0) >> 22) % 1000)},
		{5 << 22, 0, 0},
		{5 << 22, -1, 0},
	}
	for _, tt := range tests {
		if got := ShardOf(tt.guild, tt.count); got != tt.want {
			t.Errorf("ShardOf(%d, %d) = %d, want %d", tt.guild, tt.count, got, tt.want)
		}
	}
}
