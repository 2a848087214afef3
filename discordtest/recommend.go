package discordtest

// SetRecommendedShards changes the shard count that GET /gateway/bot
// recommends from now on, as Discord does when a bot grows; a test uses it
// to drive a client's periodic re-shard check. n < 1 goes back to the
// default recommendation: WithShards, raised to what WithGuilds and
// WithMaxGuildsPerShard require (ceil(guilds / max guilds per shard)), so
// that, like Discord's, the recommendation never earns a close 4011. The
// recommendation does not limit what clients identify with. Safe for
// concurrent use.
func (s *Server) SetRecommendedShards(n int) {
	s.recommended.Store(int64(max(n, 0)))
}

// RecommendedShards returns the shard count GET /gateway/bot recommends
// now (see SetRecommendedShards).
func (s *Server) RecommendedShards() int { return s.recommendedShards() }

// recommendedShards is the "shards" field of GET /gateway/bot.
func (s *Server) recommendedShards() int {
	if n := s.recommended.Load(); n > 0 {
		return int(n)
	}
	need := (s.cfg.guilds + s.cfg.maxGuildsPerShard - 1) / s.cfg.maxGuildsPerShard
	return max(s.cfg.shards, need)
}
