package wire

import (
	"errors"
	"fmt"
)

// Compression is a gateway transport compression, as sent in the
// `compress` query parameter of the gateway URL. The zero value is [None].
type Compression string

// The transport compressions Discord offers.
const (
	// None sends every message as plain JSON text.
	None Compression = ""
	// ZlibStream sends one zlib stream per connection; a message ends with
	// the sync-flush marker 00 00 ff ff.
	ZlibStream Compression = "zlib-stream"
	// ZstdStream sends one zstd stream per connection; each message is
	// flushed by the sender.
	ZstdStream Compression = "zstd-stream"
)

// MaxPayload is the largest decompressed payload, and the largest buffered
// compressed message, an [Inflater] accepts (64 MiB). Larger messages fail
// with [ErrPayloadTooLarge]; this bounds memory against decompression bombs.
const MaxPayload = 64 << 20

var (
	// ErrUnknownCompression is returned by [ParseCompression] and
	// [NewInflater] for a compression name this package does not know.
	ErrUnknownCompression = errors.New("wire: unknown compression")
	// ErrCorruptStream means the compressed stream cannot be decoded. The
	// stream is unusable afterwards: the connection must be dropped and the
	// [Inflater] Reset before it is used for a new connection.
	ErrCorruptStream = errors.New("wire: corrupt compressed stream")
	// ErrPayloadTooLarge means a message exceeded [MaxPayload]. Like
	// [ErrCorruptStream], it leaves the stream unusable.
	ErrPayloadTooLarge = errors.New("wire: payload too large")
	// ErrInflaterClosed is returned by an [Inflater] used after Close.
	ErrInflaterClosed = errors.New("wire: inflater closed")
)

// String returns the name used in the gateway URL, or "none".
func (c Compression) String() string {
	if c == None {
		return "none"
	}
	return string(c)
}

// ParseCompression parses a compression name. The empty string and "none"
// both mean [None]. Any other unknown name returns an error matching
// [ErrUnknownCompression].
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "", "none":
		return None, nil
	case string(ZlibStream):
		return ZlibStream, nil
	case string(ZstdStream):
		return ZstdStream, nil
	}
	return None, fmt.Errorf("%w: %q", ErrUnknownCompression, s)
}

// Inflater turns one websocket message of a compressed transport into the
// JSON payload.
//
// Use one Inflater per connection; it is not safe for concurrent use. Call
// Reset when a new connection starts, since the compressed stream restarts.
//
// Inflate returns the payload of a complete message. The returned slice
// aliases a buffer owned by the Inflater and is valid only until the next
// call of Inflate, Reset or Close; copy it to keep it. For zlib-stream a
// message may arrive split over several websocket messages: Inflate buffers
// the parts and returns (nil, nil) until the bytes received end with the
// sync-flush marker 00 00 ff ff. After an error matching
// [ErrCorruptStream] or [ErrPayloadTooLarge], every call of Inflate fails
// until Reset.
//
// Cost: zlib-stream holds about 100 KiB per connection (history, output
// buffer, deflate window and tables); zstd-stream holds the sender's window
// plus about 130 KiB. Inflate allocates only when a message is larger than
// any before it.
type Inflater interface {
	Inflate(msg []byte) ([]byte, error)
	Reset() error
	Close() error
}

// NewInflater returns an Inflater for c. [None] returns an identity Inflater
// whose Inflate returns msg itself. An unknown c returns an error matching
// [ErrUnknownCompression].
func NewInflater(c Compression) (Inflater, error) {
	switch c {
	case None:
		return &identityInflater{}, nil
	case ZlibStream:
		return newZlibInflater(klauspostFlate), nil
	case ZstdStream:
		return newZstdInflater(), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownCompression, string(c))
}

// identityInflater is the Inflater of [None].
type identityInflater struct{ closed bool }

func (i *identityInflater) Inflate(msg []byte) ([]byte, error) {
	if i.closed {
		return nil, ErrInflaterClosed
	}
	if len(msg) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrPayloadTooLarge, len(msg))
	}
	return msg, nil
}

func (i *identityInflater) Reset() error {
	if i.closed {
		return ErrInflaterClosed
	}
	return nil
}

func (i *identityInflater) Close() error {
	i.closed = true
	return nil
}
