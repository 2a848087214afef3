// Package megane runs a large Discord bot as one Go binary.
//
// Megane splits the bot's gateway shards into clusters. Each cluster is a
// supervised group of goroutines with its own disgo client, and any one
// cluster can be restarted while the others keep serving. Clusters and
// services share a typed in-process message bus (package bus), a lock-free
// central store (package store) and automatic statistics (package stats).
//
// # Quick start
//
// A bot is a [cluster.Worker]: Megane makes a new one for each (re)start of
// a cluster and calls its Launch with the [*cluster.Cluster] it runs in,
// whose Client is the cluster's disgo bot.Client. [New] checks the token
// and the options; [Manager.Run] plans the shards, starts the clusters and
// blocks until its context ends or a fatal error (such as
// [ErrInvalidToken]) stops the bot.
//
//	type Bot struct{}
//
//	func (*Bot) Launch(ctx context.Context, c *cluster.Cluster) error {
//		c.AddEventListeners(bot.NewListenerFunc(func(e *events.MessageCreate) {
//			c.Logger().Info("message", slog.String("content", e.Message.Content))
//		}))
//		return nil
//	}
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		m, err := megane.New(os.Getenv("DISCORD_TOKEN"),
//			megane.WithWorker(func() cluster.Worker { return &Bot{} }),
//			megane.WithIntents(gateway.IntentGuildMessages, gateway.IntentMessageContent))
//		if err != nil {
//			log.Fatal(err)
//		}
//		if err := m.Run(ctx); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// While it runs, [Manager.Restart] restarts one cluster (the others keep
// serving), [Manager.RollingRestart] all of them one by one (with an
// optional pause and a health gate on each cluster's event rate, see
// [RollGate]), and
// [Manager.Bus], [Manager.Store] and [Manager.Stats] reach what the
// clusters and services share. Services ([WithService]) are plain structs
// supervised beside the clusters (package service).
//
// # Re-sharding
//
// A bot that outgrows its shard count is moved to a new one without
// stopping: [Manager.Reshard] does it on demand (a count, or 0 for what GET
// /gateway/bot recommends, scaled by [WithGuildsPerShard] and rounded by
// [WithShardMultiple]); a close 4011 (sharding required) does it
// automatically unless [WithAutoReshard](false), taking the recommended
// count, or twice the current one when the recommendation is not higher;
// and [WithReshardCheck] does it when a periodic GET /gateway/bot
// recommends more shards than run.
//
// Sessions with different shard counts may coexist, so the new shard set
// starts beside the old one, in standby: its shards identify through the
// same process-wide identify queue, and its caches fill from READY and
// GUILD_CREATE, but no worker of it is launched and it is not on the bus,
// while the old set keeps serving every event. Once every new cluster is
// ready, the new workers are launched (Launch sees a full cache and the
// listeners get every event from then on), the new clusters take over the
// bus addresses, the Manager's cluster table, shard count and guild
// routing switch to the new set, and only then is the old set stopped
// (its sessions closed with 1000). No event is lost; one that arrives
// between the activation and the old set's end may be delivered twice,
// once per set. Events [cluster.EventReshardStarted],
// [cluster.EventReshardCompleted] and [cluster.EventReshardFailed] tell the story; cluster events carry the set's
// Generation, and Standby while it waits.
//
// If the new set does not become ready (a fatal error of one of its
// clusters, the caller's context, [WithReshardTimeout]), it is stopped and
// the old one keeps serving; Reshard returns a [*ReshardError]. Only one
// re-shard runs at a time, and explicit restarts are refused with
// [ErrReshardInProgress] while it does. disgo's own 4011 handling is never
// used (it deadlocks).
//
// # Bad input
//
// Bad input gets a typed error as early as it can be seen, and nothing is
// retried that cannot succeed. [New] checks the token ([ErrEmptyToken],
// [ErrMalformedToken]) and every option ([*OptionError], matching
// [ErrInvalidOption]). [Manager.Run] checks the answer of GET /gateway/bot
// before anything is dialled ([*GatewayError]; an unusable answer matches
// [ErrBadGatewayAnswer]), and stops at once on a rejected token (REST 401
// or close 4004, both [ErrInvalidToken]), the other fatal close codes and a
// worker factory that returns nil ([ErrNilWorker]). README.md's "Bad
// input: what you get" lists every case with its test.
package megane
