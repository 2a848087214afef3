// Package wire is the hot decode path of a gateway connection: it turns one
// websocket message into a JSON payload ([Inflater]), splits the payload's
// envelope in a single pass ([ParseEnvelope]) and decodes the event data into
// disgo's types ([DecodeDispatch], [DecodeControl]). [ParseEnvelopeLazy] and
// [DecodeUnchecked] do the same for a dispatch with one pass over its data
// instead of two, when "d" comes last as Discord sends it.
//
// Nothing in this package panics on malformed input. A bad payload returns
// an error matching [ErrMalformedFrame] (drop the frame); a broken compressed
// stream returns one matching [ErrCorruptStream] or [ErrPayloadTooLarge]
// (drop the connection). Errors never quote the payload.
//
// The JSON engine used by disgo's types can be switched process-wide with
// [UseFastJSON] and [UseStdJSON].
package wire
