package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/megane-go/megane/cluster"
)

// Errors of the command line. They never hold the token.
var (
	// errBadFlag is wrapped by every invalid flag value.
	errBadFlag = errors.New("example: invalid flag")
	// errNoToken is returned when -api-url is given without a token.
	errNoToken = errors.New("example: -api-url needs a token (DISCORD_TOKEN or -token)")
)

// The modes the bot runs in, as reported in the summary.
const (
	modeFake    = "fake"    // the embedded fake Discord (no token given)
	modeDiscord = "discord" // Discord itself (DISCORD_TOKEN or -token)
	modeAPI     = "api"     // an external Discord-compatible API (-api-url)
)

// Defaults of the embedded fake Discord.
const (
	defaultFakeShards    = 16
	defaultGuilds        = 2000
	defaultRate          = 50
	defaultFakeMaxConc   = 16
	defaultProgressEvery = 5 * time.Second
	defaultCooldown      = 5 * time.Second
	defaultCommandEvery  = 50 // 1 message in 50 is a command
)

// fakeCommands are the contents the embedded fake's traffic carries, in
// turn, in one MESSAGE_CREATE out of -command-every.
var fakeCommands = []string{"!ping", "!stats"}

// restartKinds are the values of -restart-kind.
var restartKinds = map[string]cluster.RestartKind{
	"resume": cluster.RestartResume,
	"worker": cluster.RestartWorker,
	"full":   cluster.RestartFull,
}

// config is the parsed command line. The token is kept here and only handed
// to megane.New; String never prints it.
type config struct {
	duration    time.Duration
	shards      int
	clusters    int
	guilds      int
	rate        float64
	maxConc     int
	cmdEvery    int // embedded fake: 1 message in cmdEvery is a command; 0 = none
	apiURL      string
	token       string
	json        bool
	progress    time.Duration
	cooldown    time.Duration
	debug       bool
	restartEach time.Duration       // 0: never
	restartKind cluster.RestartKind // of the periodic rolling restart
	metrics     string              // loopback HOST:PORT for /metrics; "" = off
	status      string              // loopback HOST:PORT for the status page and probes; "" = off
	statusToken string              // MEGANE_STATUS_TOKEN: the status page's admin token; "" = read-only
	mode        string
	tokenSource string // "DISCORD_TOKEN", "-token" or "embedded fake"
}

// String describes the configuration without the token.
func (c config) String() string {
	return fmt.Sprintf("mode=%s shards=%d clusters=%d duration=%s", c.mode, c.shards, c.clusters, c.duration)
}

// parseFlags parses args (without the program name). getenv is os.Getenv in
// main and a fixed map in tests, so a developer's DISCORD_TOKEN never makes
// a test connect to Discord. Usage and flag errors are written to stderr.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./example [flags]\n\n"+
			"Runs the Megane example bot. Without DISCORD_TOKEN it starts an embedded fake Discord\n"+
			"and runs against it; with DISCORD_TOKEN it connects to Discord itself.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&c.duration, "duration", 0, "how long to run (0 = until Ctrl-C or SIGTERM)")
	fs.IntVar(&c.shards, "shards", 0, "total shard count (0 = automatic: 16 on the embedded fake, Discord's recommendation otherwise)")
	fs.IntVar(&c.clusters, "clusters", 0, "cluster count (0 = GOMAXPROCS)")
	fs.IntVar(&c.guilds, "guilds", defaultGuilds, "guilds of the embedded fake Discord")
	fs.Float64Var(&c.rate, "rate", defaultRate, "embedded fake: dispatches per second per shard (0 = none, -1 = as fast as possible)")
	fs.IntVar(&c.maxConc, "max-concurrency", defaultFakeMaxConc, "embedded fake: session_start_limit.max_concurrency")
	fs.IntVar(&c.cmdEvery, "command-every", defaultCommandEvery, "embedded fake: one message in this many is a command, !ping and !stats in turn (0 = none)")
	fs.StringVar(&c.apiURL, "api-url", "", "REST base URL of an external Discord-compatible API (e.g. fakediscord's http://HOST:PORT/api/v10) instead of the embedded fake")
	fs.StringVar(&c.token, "token", "", "bot token (prefer the DISCORD_TOKEN environment variable: flags are visible to other users of the machine)")
	fs.BoolVar(&c.json, "json", false, "print the final summary as one JSON line on stdout (all other output goes to stderr)")
	fs.DurationVar(&c.progress, "progress", defaultProgressEvery, "how often to log progress, and the startup progress while shards start (0 = never)")
	fs.DurationVar(&c.cooldown, "cooldown", defaultCooldown, "per-user cooldown of !ping")
	fs.BoolVar(&c.debug, "debug", false, "log at debug level")
	fs.DurationVar(&c.restartEach, "restart-every", 0, "run a rolling restart of every cluster at this interval (0 = never)")
	fs.StringVar(&c.metrics, "metrics", "", "serve Prometheus metrics on http://ADDR/metrics, a loopback address such as 127.0.0.1:9090 (default off)")
	fs.StringVar(&c.status, "status", "", "serve the status page and the /healthz and /readyz probes on http://ADDR/, a loopback address such as 127.0.0.1:8080 (default off); its restart buttons need MEGANE_STATUS_TOKEN")
	kind := fs.String("restart-kind", "resume", "kind of the periodic rolling restart: resume, worker or full")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	k, ok := restartKinds[*kind]
	if !ok {
		return config{}, fmt.Errorf("%w: -restart-kind %q is not resume, worker or full", errBadFlag, *kind)
	}
	c.restartKind = k
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("%w: unexpected argument %q", errBadFlag, fs.Arg(0))
	}
	if err := c.validate(); err != nil {
		return config{}, err
	}
	if c.metrics != "" {
		if err := checkLoopback("metrics", c.metrics); err != nil {
			return config{}, err
		}
	}
	if c.status != "" {
		if err := checkLoopback("status", c.status); err != nil {
			return config{}, err
		}
		c.statusToken = getenv("MEGANE_STATUS_TOKEN")
	}
	switch {
	case c.token != "":
		c.tokenSource = "-token"
	case getenv("DISCORD_TOKEN") != "":
		c.token, c.tokenSource = getenv("DISCORD_TOKEN"), "DISCORD_TOKEN"
	}
	switch {
	case c.apiURL != "" && c.token == "":
		return config{}, errNoToken
	case c.apiURL != "":
		c.mode = modeAPI
	case c.token != "":
		c.mode = modeDiscord
	default:
		c.mode, c.tokenSource = modeFake, "embedded fake"
		if c.shards == 0 {
			c.shards = defaultFakeShards
		}
	}
	return c, nil
}

// validate checks the numeric flags.
func (c config) validate() error {
	switch {
	case c.duration < 0:
		return fmt.Errorf("%w: -duration %s is negative", errBadFlag, c.duration)
	case c.shards < 0:
		return fmt.Errorf("%w: -shards %d is negative", errBadFlag, c.shards)
	case c.clusters < 0:
		return fmt.Errorf("%w: -clusters %d is negative", errBadFlag, c.clusters)
	case c.guilds < 1:
		return fmt.Errorf("%w: -guilds %d must be at least 1", errBadFlag, c.guilds)
	case c.rate < -1:
		return fmt.Errorf("%w: -rate %g must be -1, 0 or positive", errBadFlag, c.rate)
	case c.maxConc < 1:
		return fmt.Errorf("%w: -max-concurrency %d must be at least 1", errBadFlag, c.maxConc)
	case c.cmdEvery < 0:
		return fmt.Errorf("%w: -command-every %d is negative", errBadFlag, c.cmdEvery)
	case c.progress < 0:
		return fmt.Errorf("%w: -progress %s is negative", errBadFlag, c.progress)
	case c.cooldown < 0:
		return fmt.Errorf("%w: -cooldown %s is negative", errBadFlag, c.cooldown)
	case c.restartEach < 0:
		return fmt.Errorf("%w: -restart-every %s is negative", errBadFlag, c.restartEach)
	}
	return nil
}
