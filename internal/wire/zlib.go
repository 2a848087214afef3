package wire

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
)

// zlibSuffix ends every complete zlib-stream message: the LEN/NLEN of the
// empty stored block a sync flush writes.
var zlibSuffix = []byte{0x00, 0x00, 0xff, 0xff}

const (
	// windowSize is the deflate history window (RFC 1951: 32 KiB).
	windowSize = 32 << 10
	// zlibSlideAt is the length of the output buffer past which the oldest
	// bytes are dropped, keeping only the last window of history. Sliding
	// less often costs memory; more often costs copies.
	zlibSlideAt = 2 * windowSize
	// zlibMinFree is the least free space offered to each Read.
	zlibMinFree = 8 << 10
)

// flateReader is what both the stdlib and klauspost flate readers offer.
type flateReader interface {
	io.ReadCloser
	Reset(r io.Reader, dict []byte) error
}

// flateImpl builds a raw-deflate reader over r.
type flateImpl func(r io.Reader) flateReader

var (
	klauspostFlate flateImpl = func(r io.Reader) flateReader {
		return flate.NewReader(r).(flateReader)
	}
	stdlibFlate flateImpl = func(r io.Reader) flateReader {
		return stdflate.NewReader(r).(flateReader)
	}
)

// zlibInflater decodes Discord's zlib-stream transport.
//
// It keeps one raw-deflate reader for the whole connection (the zlib header
// is checked by hand, and the adler32 trailer never comes since the stream
// never ends). The decoded output is appended to out, which also serves as
// the history needed to re-seed the reader in the one case where the reader
// has to be reset between messages (see inflate).
//
// Memory per connection: about 64 KiB of output buffer plus the reader's
// 32 KiB window and tables, more while a large message is in flight.
type zlibInflater struct {
	impl    flateImpl
	fr      flateReader // nil until the first message
	src     bytes.Reader
	pending []byte // parts of a message split over several websocket messages
	out     []byte // history, then the current payload
	header  bool   // zlib header of this connection seen
	seed    bool   // fr must be Reset before the next message (new stream)
	broken  error
	closed  bool
}

func newZlibInflater(impl flateImpl) *zlibInflater {
	return &zlibInflater{impl: impl}
}

func (z *zlibInflater) Inflate(msg []byte) ([]byte, error) {
	if z.closed {
		return nil, ErrInflaterClosed
	}
	if z.broken != nil {
		return nil, z.broken
	}
	data := msg
	if len(z.pending) > 0 || !bytes.HasSuffix(msg, zlibSuffix) {
		if len(z.pending)+len(msg) > MaxPayload {
			return nil, z.fail(fmt.Errorf("%w: message over %d bytes", ErrPayloadTooLarge, MaxPayload))
		}
		z.pending = append(z.pending, msg...)
		if !bytes.HasSuffix(z.pending, zlibSuffix) {
			return nil, nil
		}
		data = z.pending
		defer func() { z.pending = z.pending[:0] }()
	}
	if !z.header {
		if err := checkZlibHeader(data); err != nil {
			return nil, z.fail(err)
		}
		data = data[2:]
		z.header = true
	}
	return z.inflate(data)
}

// checkZlibHeader validates the two-byte zlib header (RFC 1950): deflate,
// a window of at most 32 KiB, a valid check value and no preset dictionary.
func checkZlibHeader(b []byte) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: short zlib header", ErrCorruptStream)
	}
	cmf, flg := b[0], b[1]
	switch {
	case cmf&0x0f != 8:
		return fmt.Errorf("%w: zlib method %d is not deflate", ErrCorruptStream, cmf&0x0f)
	case cmf>>4 > 7:
		return fmt.Errorf("%w: zlib window too large", ErrCorruptStream)
	case (uint16(cmf)<<8|uint16(flg))%31 != 0:
		return fmt.Errorf("%w: zlib header checksum", ErrCorruptStream)
	case flg&0x20 != 0:
		return fmt.Errorf("%w: zlib preset dictionary not supported", ErrCorruptStream)
	}
	return nil
}

// inflate decodes one complete message (its last four bytes are the sync
// flush marker).
//
// The flate reader returns the message's data once it has decoded the empty
// stored block of the sync flush, which is also when it consumes the last
// input byte. So the message is done when the input is used up and the last
// Read did not fill its buffer (the reader's pending output is drained).
// Reading past that point would make the reader look for the next block,
// find no input and fail with a sticky io.ErrUnexpectedEOF. That happens
// when the flush has nothing left to return (the output ended exactly at a
// window boundary) or when a Read filled the buffer exactly. Then every
// byte has been returned all the same, and the reader is re-seeded with the
// last 32 KiB of output, which is exactly the state it had.
func (z *zlibInflater) inflate(data []byte) ([]byte, error) {
	if len(z.out) > zlibSlideAt {
		n := copy(z.out, z.out[len(z.out)-windowSize:])
		z.out = z.out[:n]
	}
	start := len(z.out)
	z.src.Reset(data)
	switch {
	case z.fr == nil:
		z.fr = z.impl(&z.src)
	case z.seed:
		if err := z.fr.Reset(&z.src, nil); err != nil {
			return nil, z.fail(fmt.Errorf("%w: %w", ErrCorruptStream, err))
		}
	}
	z.seed = false
	for {
		if cap(z.out)-len(z.out) < zlibMinFree {
			z.out = grow(z.out, zlibMinFree)
		}
		free := z.out[len(z.out):cap(z.out)]
		n, err := z.fr.Read(free)
		z.out = z.out[:len(z.out)+n]
		if len(z.out)-start > MaxPayload {
			return nil, z.fail(fmt.Errorf("%w: decompressed message over %d bytes", ErrPayloadTooLarge, MaxPayload))
		}
		if err != nil {
			if z.src.Len() == 0 && errors.Is(err, io.ErrUnexpectedEOF) {
				hist := z.out[max(0, len(z.out)-windowSize):]
				if rerr := z.fr.Reset(&z.src, hist); rerr != nil {
					return nil, z.fail(fmt.Errorf("%w: %w", ErrCorruptStream, rerr))
				}
				break
			}
			return nil, z.fail(fmt.Errorf("%w: %w", ErrCorruptStream, err))
		}
		if z.src.Len() == 0 && n < len(free) {
			break
		}
	}
	return z.out[start:len(z.out):len(z.out)], nil
}

// fail makes the stream unusable until Reset and returns err.
func (z *zlibInflater) fail(err error) error {
	z.broken = err
	z.pending = z.pending[:0]
	return err
}

func (z *zlibInflater) Reset() error {
	if z.closed {
		return ErrInflaterClosed
	}
	z.pending = z.pending[:0]
	z.out = z.out[:0]
	z.header = false
	z.seed = z.fr != nil
	z.broken = nil
	z.src.Reset(nil)
	return nil
}

func (z *zlibInflater) Close() error {
	if z.closed {
		return nil
	}
	z.closed = true
	if z.fr != nil {
		_ = z.fr.Close() // reports the stream's last error, already seen
	}
	z.fr, z.pending, z.out = nil, nil, nil
	z.src.Reset(nil)
	return nil
}

// grow returns b with at least n bytes of free capacity, at least doubling.
func grow(b []byte, n int) []byte {
	c := max(2*cap(b), len(b)+n)
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}
