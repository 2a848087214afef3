package engine

import (
	"errors"

	"github.com/megane-go/megane/shard"
)

// IsFatal reports whether err must stop the process instead of being
// retried: a fatal gateway close code (4004, 4010–4014), or an error marked
// fatal for the supervisor, or a shard option that no restart can fix (an
// unsupported compression, an invalid gateway proxy URL).
func IsFatal(err error) bool {
	var ce *shard.CloseError
	if errors.As(err, &ce) && ce.Fatal() {
		return true
	}
	for _, s := range []error{
		shard.ErrInvalidToken, shard.ErrInvalidShard, shard.ErrShardingRequired,
		shard.ErrInvalidAPIVersion, shard.ErrInvalidIntents, shard.ErrDisallowedIntents,
		shard.ErrUnsupportedCompression, shard.ErrInvalidGatewayURL,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
