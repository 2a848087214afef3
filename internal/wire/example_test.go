package wire_test

import (
	"fmt"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/internal/wire"
)

func ExampleParseEnvelope() {
	payload := []byte(`{"t":"MESSAGE_DELETE","s":12,"op":0,"d":{"id":"1311111111111111111","channel_id":"1322222222222222222"}}`)
	env, err := wire.ParseEnvelope(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(env.Op, env.Seq, env.Type)
	ev, err := wire.DecodeDispatch(env.Type, env.D)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.(gateway.EventMessageDelete).ChannelID)
	// Output:
	// 0 12 MESSAGE_DELETE
	// 1322222222222222222
}

func ExampleDecodeControl() {
	env, _ := wire.ParseEnvelope([]byte(`{"op":10,"d":{"heartbeat_interval":41250},"s":null,"t":null}`))
	md, err := wire.DecodeControl(env.Op, env.D)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(md.(gateway.MessageDataHello).HeartbeatInterval, env.HasSeq)
	// Output: 41250 false
}

func ExampleNewInflater() {
	inf, err := wire.NewInflater(gateway.CompressionNone) // or gateway.CompressionZlibStream, gateway.CompressionZstdStream
	if err != nil {
		fmt.Println(err)
		return
	}
	defer inf.Close()
	payload, err := inf.Inflate([]byte(`{"op":11}`))
	fmt.Println(string(payload), err)
	// Output: {"op":11} <nil>
}

func ExampleUseFastJSON() {
	restore := wire.UseFastJSON() // at the start of main, before any shard runs
	defer restore()
	fmt.Println(wire.FastJSONName)
	// Output: github.com/goccy/go-json
}
