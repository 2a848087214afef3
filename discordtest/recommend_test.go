package discordtest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// getRecommended fetches GET /gateway/bot and returns its "shards".
func getRecommended(t *testing.T, s *Server) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.APIURL()+"/gateway/bot", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var gb gatewayBot
	if err := json.NewDecoder(resp.Body).Decode(&gb); err != nil {
		t.Fatal(err)
	}
	return gb.Shards
}

func TestRecommendedShards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		set  []int // SetRecommendedShards calls, in order
		want int
	}{
		{name: "default", want: 1},
		{name: "WithShards", opts: []Option{WithShards(3)}, want: 3},
		{name: "guild limit raises it", opts: []Option{WithShards(1), WithGuilds(10), WithMaxGuildsPerShard(3)}, want: 4},
		{name: "WithShards above the limit", opts: []Option{WithShards(8), WithGuilds(10), WithMaxGuildsPerShard(3)}, want: 8},
		{name: "set", opts: []Option{WithShards(2)}, set: []int{6}, want: 6},
		{name: "set then reset", opts: []Option{WithShards(2)}, set: []int{6, 0}, want: 2},
		{name: "negative resets", opts: []Option{WithShards(2)}, set: []int{6, -1}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, tt.opts...)
			for _, n := range tt.set {
				s.SetRecommendedShards(n)
			}
			if got := getRecommended(t, s); got != tt.want {
				t.Fatalf("GET /gateway/bot shards = %d, want %d", got, tt.want)
			}
			if got := s.RecommendedShards(); got != tt.want {
				t.Fatalf("RecommendedShards() = %d, want %d", got, tt.want)
			}
		})
	}
}
