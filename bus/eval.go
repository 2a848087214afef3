package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// EvalTopic is the topic of an eval message, as seen in [HandlerError.Topic]
// and [TypeError.Topic]. A named eval's topic is EvalTopic + "/" + name.
const EvalTopic = "bus.eval"

// namedFunc is a registered function with its target check and argument
// decoding; to is the target's address, for errors.
type namedFunc struct {
	call func(ctx context.Context, to Address, target any, arg json.RawMessage) (any, error)
}

// evalTarget takes a T from a mailbox's eval target ([WithEvalTarget]):
// the target as it is if it is a T, the zero T if the target is nil and T
// is an interface type, and otherwise a [*TypeError] naming the target.
func evalTarget[T any](to Address, topic string, target any) (T, error) {
	if t, ok := target.(T); ok {
		return t, nil
	}
	var zero T
	if target == nil && any(zero) == nil { // T is an interface type
		return zero, nil
	}
	return zero, &TypeError{Target: to, Topic: topic, Want: typeName[T](), Got: fmt.Sprintf("%T", target)}
}

// RegisterFunc registers fn under name on b, so that [EvalFunc] can run it on
// any target. fn runs on the target's [Mailbox.Serve] goroutine and receives
// the target's eval value ([WithEvalTarget]) as a T, and the argument
// decoded from JSON. A function registered for clusters takes a
// *cluster.Cluster, one for a service its type; a target whose eval value is
// not a T gets a [*TypeError] in its [Result] (with T an interface type, a
// target without an eval value gets nil). Because the argument always travels in its JSON form (an envelope,
// {"func": name, "arg": <json>}), a named function can be called across
// hosts once a networked transport exists; Res should be JSON-encodable for
// the same reason.
//
// name must be 1 to 128 bytes of letters, digits and "._:/-". Registering a
// name twice fails with [ErrFuncExists]. RegisterFunc is safe for concurrent
// use.
func RegisterFunc[T, Arg, Res any](b *Bus, name string, fn func(ctx context.Context, target T, arg Arg) (Res, error)) error {
	if reason := checkFuncName(name); reason != "" {
		return &EnvelopeError{Field: "func", Reason: reason}
	}
	if fn == nil {
		return fmt.Errorf("bus: RegisterFunc %q with a nil function", name)
	}
	topic := EvalTopic + "/" + name
	nf := &namedFunc{call: func(ctx context.Context, to Address, target any, raw json.RawMessage) (any, error) {
		t, err := evalTarget[T](to, topic, target)
		if err != nil {
			return nil, err
		}
		var arg Arg
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &arg); err != nil {
				return nil, &EnvelopeError{Field: "arg", Reason: fmt.Sprintf("cannot decode into %T", arg), Err: err}
			}
		}
		return fn(ctx, t, arg)
	}}
	b.funcsMu.Lock()
	defer b.funcsMu.Unlock()
	if _, dup := b.funcs[name]; dup {
		return fmt.Errorf("%w: %q", ErrFuncExists, name)
	}
	b.funcs[name] = nf
	return nil
}

func (b *Bus) lookupFunc(name string) *namedFunc {
	b.funcsMu.RLock()
	defer b.funcsMu.RUnlock()
	return b.funcs[name]
}

// runEnvelope runs a named-function envelope on the receiving side.
func (b *Bus) runEnvelope(ctx context.Context, to Address, target any, env envelope) (any, error) {
	nf := b.lookupFunc(env.Func)
	if nf == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownFunc, env.Func)
	}
	return nf.call(ctx, to, target, env.Arg)
}

// EvalFunc runs the function registered as name (see [RegisterFunc]) with arg
// on every target that to names, like [Broadcast]: one [Result] per target,
// sorted by address, with per-target failures ([ErrTargetStopped], a
// [*HandlerError] wrapping the function's error, ...) in the Results.
//
// The error is non-nil, and the results nil, only when nothing could be sent:
// name is not registered ([ErrUnknownFunc]), arg is not JSON-encodable or the
// name is malformed ([*EnvelopeError]), or to cannot be resolved
// ([*AddressError], [ErrNoTarget] for a guild with no owner).
func EvalFunc[Arg, Res any](ctx context.Context, b *Bus, from, to Address, name string, arg Arg) ([]Result[Res], error) {
	env, err := newEnvelope(name, arg)
	if err != nil {
		return nil, err
	}
	if b.lookupFunc(name) == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownFunc, name)
	}
	targets, err := b.targets(from, to)
	if err != nil {
		return nil, err
	}
	topic := EvalTopic + "/" + name
	return fanout[Res](ctx, b, targets, func(t Address) *delivery {
		run := func(ctx context.Context, target any) (any, error) {
			// The receiving side works from the envelope alone, as it
			// would after a wire hop.
			return b.runEnvelope(ctx, t, target, env)
		}
		return &delivery{Message: Message{From: from, To: t, Topic: topic, Payload: env}, eval: run}
	}), nil
}

// Eval runs fn on every target that to names and returns one [Result] per
// target, sorted by address, like [Broadcast]. fn runs on each target's
// [Mailbox.Serve] goroutine with the target's eval value ([WithEvalTarget])
// as a T (a cluster's is its *cluster.Cluster, a service's its own value),
// so it may touch the target's state without locking; it must not block for
// long, since the target handles nothing else meanwhile. fn runs once per
// target, concurrently across targets.
//
// A closure cannot cross hosts: Eval is in-process only; use [EvalFunc] for
// code that may later run on another host. A target whose eval value is not
// a T gets a [*TypeError] in its Result and fn does not run for it (with T
// an interface type, a target without an eval value gets nil). The error is
// non-nil only when to cannot be resolved or fn is nil.
func Eval[T, Res any](ctx context.Context, b *Bus, from, to Address, fn func(ctx context.Context, target T) (Res, error)) ([]Result[Res], error) {
	if fn == nil {
		return nil, errors.New("bus: Eval with a nil function")
	}
	targets, err := b.targets(from, to)
	if err != nil {
		return nil, err
	}
	return fanout[Res](ctx, b, targets, func(t Address) *delivery {
		run := func(ctx context.Context, target any) (any, error) {
			v, err := evalTarget[T](t, EvalTopic, target)
			if err != nil {
				return nil, err
			}
			return fn(ctx, v)
		}
		return &delivery{Message: Message{From: from, To: t, Topic: EvalTopic}, eval: run}
	}), nil
}
