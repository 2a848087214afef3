package wire

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// zstdMaxBlock is the largest output of one zstd block (128 KiB). Every Read
// is offered more than that, so that one Read always drains a block.
const zstdMaxBlock = 128 << 10

// zstdMaxWindow bounds the window a sender may ask for (Discord uses far
// less); a larger one fails the stream instead of allocating it.
const zstdMaxWindow = 32 << 20

// msgReader is an io.Reader over one message. It deliberately has no Bytes
// or Len method: zstd.Decoder.Reset would otherwise decode it eagerly as a
// whole frame.
type msgReader struct {
	b   []byte
	off int
}

func (r *msgReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *msgReader) remaining() int { return len(r.b) - r.off }

func (r *msgReader) reset(b []byte) { r.b, r.off = b, 0 }

// zstdInflater decodes Discord's zstd-stream transport with one synchronous
// streaming decoder per connection (no goroutines).
//
// The decoder is fed one message at a time. A message is done when its input
// is used up and the last Read did not fill its buffer: the decoder reads a
// block's input and decodes it in the same call, and returns it whole since
// every Read is offered more than a block. It never asks for input beyond
// the message, so it never sees the end of its input mid-stream.
//
// Memory per connection: the decoder's window (as the sender sets it) plus
// an output buffer of a little over 128 KiB.
type zstdInflater struct {
	dec    *zstd.Decoder // nil until the first message
	src    msgReader
	out    []byte
	broken error
	closed bool
}

func newZstdInflater() *zstdInflater { return &zstdInflater{} }

func (z *zstdInflater) Inflate(msg []byte) ([]byte, error) {
	if z.closed {
		return nil, ErrInflaterClosed
	}
	if z.broken != nil {
		return nil, z.broken
	}
	if len(msg) > MaxPayload {
		return nil, z.fail(fmt.Errorf("%w: message over %d bytes", ErrPayloadTooLarge, MaxPayload))
	}
	if len(msg) == 0 {
		return nil, &FrameError{Reason: "empty zstd message"}
	}
	z.src.reset(msg)
	if z.dec == nil {
		dec, err := zstd.NewReader(&z.src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, z.fail(fmt.Errorf("%w: %w", ErrCorruptStream, err))
		}
		z.dec = dec
	}
	z.out = z.out[:0]
	for {
		if cap(z.out)-len(z.out) <= zstdMaxBlock {
			z.out = grow(z.out, zstdMaxBlock+1)
		}
		free := z.out[len(z.out):cap(z.out)]
		n, err := z.dec.Read(free)
		z.out = z.out[:len(z.out)+n]
		if len(z.out) > MaxPayload {
			return nil, z.fail(fmt.Errorf("%w: decompressed message over %d bytes", ErrPayloadTooLarge, MaxPayload))
		}
		if err != nil {
			return nil, z.fail(fmt.Errorf("%w: %w", ErrCorruptStream, err))
		}
		if z.src.remaining() == 0 && n < len(free) {
			break
		}
	}
	return z.out[:len(z.out):len(z.out)], nil
}

func (z *zstdInflater) fail(err error) error {
	z.broken = err
	return err
}

func (z *zstdInflater) Reset() error {
	if z.closed {
		return ErrInflaterClosed
	}
	z.broken = nil
	z.out = z.out[:0]
	z.src.reset(nil)
	if z.dec != nil {
		if err := z.dec.Reset(&z.src); err != nil {
			return fmt.Errorf("%w: %w", ErrCorruptStream, err)
		}
	}
	return nil
}

func (z *zstdInflater) Close() error {
	if z.closed {
		return nil
	}
	z.closed = true
	if z.dec != nil {
		z.dec.Close()
		z.dec = nil
	}
	z.out = nil
	z.src.reset(nil)
	return nil
}
