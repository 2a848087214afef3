package wire

import (
	"errors"
	"fmt"

	"github.com/disgoorg/disgo/gateway"
)

// MaxPayload is the largest decompressed payload, and the largest buffered
// compressed message, an [Inflater] accepts (64 MiB). Larger messages fail
// with [ErrPayloadTooLarge]; this bounds memory against decompression bombs.
const MaxPayload = 64 << 20

var (
	// ErrUnknownCompression is returned by [CheckCompression],
	// [ParseCompression] and [NewInflater] for a compression this package
	// does not support: zlib-payload or an unknown name.
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

// CheckCompression returns nil for a transport compression this package
// supports (disgo's [gateway.CompressionNone], [gateway.CompressionZlibStream]
// and [gateway.CompressionZstdStream]; every public API takes disgo's type)
// and an error matching
// [ErrUnknownCompression] for any other, [gateway.CompressionZlibPayload]
// included. It is the one list of what is supported; [NewInflater] uses it.
func CheckCompression(c gateway.CompressionType) error {
	switch c {
	case gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream:
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnknownCompression, string(c))
}

// ParseCompression parses a compression name, as given on a command line.
// The empty string and "none" both mean [gateway.CompressionNone]. Any
// other name that [CheckCompression] rejects returns an error matching
// [ErrUnknownCompression].
func ParseCompression(s string) (gateway.CompressionType, error) {
	if s == "none" {
		return gateway.CompressionNone, nil
	}
	c := gateway.CompressionType(s)
	if err := CheckCompression(c); err != nil {
		return gateway.CompressionNone, err
	}
	return c, nil
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

// NewInflater returns an Inflater for c. [gateway.CompressionNone] returns
// an identity Inflater whose Inflate returns msg itself. A c that
// [CheckCompression] rejects returns an error matching
// [ErrUnknownCompression].
func NewInflater(c gateway.CompressionType) (Inflater, error) {
	if err := CheckCompression(c); err != nil {
		return nil, err
	}
	switch c {
	case gateway.CompressionZlibStream:
		return newZlibInflater(klauspostFlate), nil
	case gateway.CompressionZstdStream:
		return newZstdInflater(), nil
	}
	return &identityInflater{}, nil
}

// identityInflater is the Inflater of [gateway.CompressionNone].
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
