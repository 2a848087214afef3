package discordtest

import (
	"bytes"
	"encoding/binary"

	"github.com/disgoorg/disgo/gateway"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Websocket frame opcodes with FIN set (RFC 6455 §5.2).
const (
	finText   = 0x81
	finBinary = 0x82
)

// appendFrameHeader appends an unmasked server frame header for a payload
// of n bytes.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	switch {
	case n < 126:
		return append(dst, op, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, op, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, op, 127), uint64(n))
	}
}

// transport turns whole gateway payloads into websocket data frames,
// compressing them as the connection asked. The writer appends the frames
// of a batch to one buffer and writes it with one system call. A transport
// is owned by the connection's writer.
type transport interface {
	appendFrame(dst, payload []byte) ([]byte, error)
	close()
}

func newTransport(c gateway.CompressionType) (transport, error) {
	switch c {
	case gateway.CompressionZlibStream:
		t := &zlibTransport{}
		zw, err := zlib.NewWriterLevel(&t.buf, zlib.BestSpeed)
		if err != nil {
			return nil, err
		}
		t.zw = zw
		return t, nil
	case gateway.CompressionZstdStream:
		t := &zstdTransport{}
		enc, err := zstd.NewWriter(&t.buf,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
		t.enc = enc
		return t, nil
	default:
		return plainTransport{}, nil
	}
}

// plainTransport sends each payload as one text frame.
type plainTransport struct{}

func (plainTransport) appendFrame(dst, p []byte) ([]byte, error) {
	return append(appendFrameHeader(dst, finText, len(p)), p...), nil
}

func (plainTransport) close() {}

// zlibTransport is zlib-stream: one zlib stream per connection, each payload
// flushed with Z_SYNC_FLUSH (ending in 00 00 ff ff) into one binary frame.
// Level 1 (best speed) keeps the server cheap.
type zlibTransport struct {
	buf bytes.Buffer
	zw  *zlib.Writer
}

func (t *zlibTransport) appendFrame(dst, p []byte) ([]byte, error) {
	t.buf.Reset()
	if _, err := t.zw.Write(p); err != nil {
		return dst, err
	}
	if err := t.zw.Flush(); err != nil {
		return dst, err
	}
	return append(appendFrameHeader(dst, finBinary, t.buf.Len()), t.buf.Bytes()...), nil
}

func (t *zlibTransport) close() { _ = t.zw.Close() }

// zstdTransport is zstd-stream: one zstd frame per connection, each payload
// flushed as its own block(s) into one binary frame. The window is 1 MiB at
// the fastest level, so an encoder costs about 1-2 MiB per connection.
type zstdTransport struct {
	buf bytes.Buffer
	enc *zstd.Encoder
}

func (t *zstdTransport) appendFrame(dst, p []byte) ([]byte, error) {
	t.buf.Reset()
	if _, err := t.enc.Write(p); err != nil {
		return dst, err
	}
	if err := t.enc.Flush(); err != nil {
		return dst, err
	}
	return append(appendFrameHeader(dst, finBinary, t.buf.Len()), t.buf.Bytes()...), nil
}

func (t *zstdTransport) close() { _ = t.enc.Close() }
