package discordtest

import (
	"errors"
	"fmt"
)

var (
	// ErrNoSession is returned by the fault and traffic methods when the
	// shard (or, for AllShards, every shard) has no live connection bound to
	// a session.
	ErrNoSession = errors.New("discordtest: no live session for shard")
	// ErrNoGuild is returned by SendDMGuildCreate when the shard owns no
	// guild to attach the DM channel to.
	ErrNoGuild = errors.New("discordtest: shard owns no guild")
	// ErrClosed is returned when the server has been closed.
	ErrClosed = errors.New("discordtest: server closed")
	// ErrInvalidOption is wrapped by Start when an option value is invalid,
	// and by FailGatewayBot and FailWebhook for a status they cannot send.
	ErrInvalidOption = errors.New("discordtest: invalid option")
)

// OptionError reports an invalid option value passed to [Start] or [New],
// or an invalid argument of [Server.FailGatewayBot] or [Server.FailWebhook].
type OptionError struct {
	Option string // the option's (or method's) name, e.g. "WithGuilds"
	Reason string
}

// Error implements error.
func (e *OptionError) Error() string {
	return fmt.Sprintf("discordtest: invalid option %s: %s", e.Option, e.Reason)
}

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }
