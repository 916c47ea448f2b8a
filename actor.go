package hub

import "context"

type actorKey struct{}

// WithActor marks ctx as acting for actor, the operator ("operator:anna")
// or API token ("token:deploy") an authenticated request came with. The
// audit log names it whatever the handler passes.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor set, "" when none.
func ActorFrom(ctx context.Context) string {
	v, _ := ctx.Value(actorKey{}).(string)
	return v
}
