package main

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/gateway"
	goccy "github.com/goccy/go-json"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/wire"
)

// limitSpec configures the decode-only limit child.
type limitSpec struct {
	Compression string  `json:"compression"`
	Frames      int     `json:"frames"` // traffic frames recorded per stream
	Reps        int     `json:"reps"`
	RepSeconds  float64 `json:"rep_s"`
}

// limitResult is the decode-only limit, per stream and engine.
type limitResult struct {
	FastMsg   figure `json:"fast_message_create"` // wire.ParseEnvelopeLazy + DecodeUnchecked (the shard's path), fast engine
	FastMixed figure `json:"fast_mixed"`
	StdMsg    figure `json:"std_message_create"` // gateway.Message via encoding/json
	StdMixed  figure `json:"std_mixed"`
	FrameSize int    `json:"message_create_bytes"` // size of one decompressed MESSAGE_CREATE
}

// recording is a gateway connection's websocket messages from the first
// one on (so compressed streams replay from their start).
type recording struct {
	comp gateway.CompressionType
	msgs [][]byte
}

// trafficTypes are the dispatches the benches count.
var trafficTypes = map[gateway.EventType]bool{
	gateway.EventTypeMessageCreate:      true,
	gateway.EventTypeGuildMemberAdd:     true,
	gateway.EventTypeMessageReactionAdd: true,
	gateway.EventTypeTypingStart:        true,
}

// record connects to s as shard 0 of 16 with comp, and records every
// message until n traffic dispatches have arrived: MESSAGE_CREATE only
// (Emit) or the mixed stream (rate -1).
func record(s *discordtest.Server, comp gateway.CompressionType, n int, mixed bool) (recording, error) {
	q := url.Values{"v": {"10"}, "encoding": {"json"}}
	if comp != gateway.CompressionNone {
		q.Set("compress", string(comp))
	}
	ws, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?"+q.Encode(), nil)
	if err != nil {
		return recording{}, err
	}
	defer ws.Close()
	identify, _ := stdjson.Marshal(map[string]any{"op": 2, "d": map[string]any{
		"token": s.Token(), "intents": int(benchIntents), "shard": [2]int{0, 16},
		"properties": map[string]string{"os": "linux", "browser": "bench", "device": "bench"},
	}})
	if err := ws.WriteMessage(websocket.TextMessage, identify); err != nil {
		return recording{}, err
	}
	inf, err := wire.NewInflater(comp)
	if err != nil {
		return recording{}, err
	}
	defer inf.Close()
	rec := recording{comp: comp}
	_ = ws.SetReadDeadline(time.Now().Add(time.Minute))
	started, traffic := false, 0
	for traffic < n {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return rec, err
		}
		rec.msgs = append(rec.msgs, msg)
		p, err := inf.Inflate(msg)
		if err != nil || p == nil {
			return rec, errors.Join(errors.New("inflating a recorded message"), err)
		}
		env, err := wire.ParseEnvelope(p)
		if err != nil {
			return rec, err
		}
		switch {
		case env.Op == gateway.OpcodeDispatch && trafficTypes[env.Type]:
			traffic++
		case env.Op == gateway.OpcodeDispatch && env.Type == gateway.EventTypeReady && !started:
			started = true
			if mixed {
				s.SetRate(-1)
			} else if err := s.Emit(0, n); err != nil {
				return rec, err
			}
		}
	}
	s.SetRate(0)
	return rec, nil
}

// keep keeps the last decoded value of each pass alive, so no pass can be
// optimised away.
func keep(v any) { runtime.KeepAlive(v) }

// replay inflates and parses every recorded message of r and calls each
// with every traffic dispatch, in order. It returns how many it handed to
// each before the first error. It parses as a shard's read loop does
// (wire.ParseEnvelopeLazy): env.D may be unchecked.
func replay(r recording, each func(env wire.Envelope, frame []byte) error) (int64, error) {
	inf, err := wire.NewInflater(r.comp)
	if err != nil {
		return 0, err
	}
	defer inf.Close()
	var n int64
	for _, msg := range r.msgs {
		p, err := inf.Inflate(msg)
		if err != nil {
			return n, err
		}
		env, err := wire.ParseEnvelopeLazy(p)
		if err != nil {
			return n, err
		}
		if env.Op != gateway.OpcodeDispatch || !trafficTypes[env.Type] {
			continue
		}
		if err := each(env, p); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// decodeFast replays r through wire's path, the one a shard takes:
// inflate, ParseEnvelopeLazy and DecodeUnchecked of every traffic
// dispatch. It returns how many events it decoded.
func decodeFast(r recording) (int64, error) {
	var last gateway.EventData
	n, err := replay(r, func(env wire.Envelope, _ []byte) (err error) {
		last, err = wire.DecodeUnchecked(env.Type, env.D)
		return err
	})
	keep(last)
	return n, err
}

// decodeStd replays r the way disgo's own gateway decodes: the whole
// frame into gateway.Message with the current engine (encoding/json).
// The envelope parse only picks the frames to count.
func decodeStd(r recording) (int64, error) {
	var last gateway.Message
	n, err := replay(r, func(_ wire.Envelope, frame []byte) error {
		last = gateway.Message{}
		return stdjson.Unmarshal(frame, &last)
	})
	keep(last)
	return n, err
}

// errInvalidData is returned by validateOnly for data its validator
// rejects; the recorded frames are the fake's, so it means a broken pass.
var errInvalidData = errors.New("bench: a recorded dispatch's data is not valid JSON")

// scanOnly replays r and scans each traffic dispatch's data for its
// structure only (wire.ExactData: strings, escapes and nesting), building
// nothing and allocating nothing: about the least any decoder that reads
// every byte can spend.
func scanOnly(r recording) (int64, error) {
	return replay(r, func(env wire.Envelope, _ []byte) error {
		_, err := wire.ExactData(env.D)
		return err
	})
}

// validateOnly replays r and validates each traffic dispatch's data with
// the fast engine's own validator (go-json's Valid, a full JSON grammar
// check), building no struct: what the decode pass costs beyond it is the
// building of disgo's structs.
func validateOnly(r recording) (int64, error) {
	return replay(r, func(env wire.Envelope, _ []byte) error {
		if !goccy.Valid(env.D) {
			return errInvalidData
		}
		return nil
	})
}

// limitGateway is the gateway.Gateway the dispatch variant hands to
// disgo's event manager: disgo's handlers only ask it for the shard ID.
type limitGateway struct{ gateway.Gateway }

func (limitGateway) ShardID() int { return 0 }

// decodeDispatch returns a pass like decodeFast that also hands each
// event to client's event manager, as a bot's executor does: the limit
// plus disgo's own event construction and listener call, still with no
// network and no framework.
func decodeDispatch(client *bot.Client) func(recording) (int64, error) {
	return func(r recording) (int64, error) {
		return replay(r, func(env wire.Envelope, _ []byte) error {
			ev, err := wire.DecodeUnchecked(env.Type, env.D)
			if err != nil {
				return err
			}
			client.EventManager.HandleGatewayEvent(limitGateway{}, env.Type, env.Seq, ev)
			return nil
		})
	}
}

// runLimitStepped is the stepped limit child of the paired headline:
// MESSAGE_CREATE frames without compression, one repetition of each of
// decodeFast and decodeDispatch per request.
func runLimitStepped(spec limitSpec) error {
	s, err := discordtest.Start(discordtest.WithShards(16), discordtest.WithGuilds(100),
		discordtest.WithIdentifyWindow(0), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	rec, err := record(s, gateway.CompressionNone, spec.Frames, false)
	s.Close()
	if err != nil {
		return fmt.Errorf("recording frames: %w", err)
	}
	wire.UseFastJSON()
	c := newCounter(1)
	client, err := disgo.New(s.Token(), bot.WithLogger(slog.New(slog.DiscardHandler)),
		bot.WithCacheConfigOpts(cache.WithCaches(0)), bot.WithEventListeners(c))
	if err != nil {
		return err
	}
	var out limitStep
	passes := []struct {
		fn  func(recording) (int64, error)
		dst *sample
	}{
		{decodeFast, &out.Decode}, {decodeDispatch(client), &out.Dispatch},
		{scanOnly, &out.Scan}, {validateOnly, &out.Validate},
	}
	for _, p := range passes {
		if _, err := loop(rec, 1, spec.RepSeconds, p.fn); err != nil { // warm-up
			return err
		}
	}
	if got := c.msgs(); got == 0 {
		return errors.New("limit dispatch: the listener saw no MESSAGE_CREATE")
	}
	return serveSteps(struct{}{}, func(cmd string) (any, error) {
		if cmd != cmdRep {
			return nil, unknownStep(cmd)
		}
		for _, p := range passes {
			f, err := loop(rec, 1, spec.RepSeconds, p.fn)
			if err != nil {
				return nil, err
			}
			*p.dst = f.Samples[0]
		}
		return out, nil
	})
}

// loop runs decode over r for reps repetitions of about repSeconds each.
func loop(r recording, reps int, repSeconds float64, decode func(recording) (int64, error)) (figure, error) {
	if _, err := decode(r); err != nil { // warm-up, and a check
		return figure{}, err
	}
	var out []sample
	for range reps {
		m := startMeter()
		var n int64
		for time.Since(m.wall).Seconds() < repSeconds {
			k, err := decode(r)
			if err != nil {
				return figure{}, err
			}
			n += k
		}
		out = append(out, m.stop(n))
	}
	return summarize(out), nil
}

// runLimitChild records the fake's frames once and decodes them in tight
// loops with no network and no framework: the decode-only limit.
func runLimitChild(spec limitSpec) (limitResult, error) {
	comp, err := wire.ParseCompression(spec.Compression)
	if err != nil {
		return limitResult{}, err
	}
	s, err := discordtest.Start(discordtest.WithShards(16), discordtest.WithGuilds(100),
		discordtest.WithIdentifyWindow(0), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return limitResult{}, err
	}
	msgRec, err1 := record(s, comp, spec.Frames, false)
	mixedRec, err2 := record(s, comp, spec.Frames, true)
	s.Close()
	if err := errors.Join(err1, err2); err != nil {
		return limitResult{}, fmt.Errorf("recording frames: %w", err)
	}
	var res limitResult
	res.FrameSize = frameSize(msgRec)
	restore := wire.UseFastJSON()
	res.FastMsg, err1 = loop(msgRec, spec.Reps, spec.RepSeconds, decodeFast)
	res.FastMixed, err2 = loop(mixedRec, spec.Reps, spec.RepSeconds, decodeFast)
	restore()
	wire.UseStdJSON()
	var err3, err4 error
	res.StdMsg, err3 = loop(msgRec, spec.Reps, spec.RepSeconds, decodeStd)
	res.StdMixed, err4 = loop(mixedRec, spec.Reps, spec.RepSeconds, decodeStd)
	return res, errors.Join(err1, err2, err3, err4)
}

// frameSize returns the decompressed size of the last MESSAGE_CREATE.
func frameSize(r recording) int {
	inf, err := wire.NewInflater(r.comp)
	if err != nil {
		return 0
	}
	defer inf.Close()
	size := 0
	for _, msg := range r.msgs {
		p, err := inf.Inflate(msg)
		if err != nil {
			return size
		}
		if env, err := wire.ParseEnvelope(p); err == nil && env.Type == gateway.EventTypeMessageCreate {
			size = len(p)
		}
	}
	return size
}

// withTimeout bounds a child's work, so no child can hang forever.
func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
