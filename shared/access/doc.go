// Package access is the single place AdvisoryHub decides authorization
// (INV-AUTH-1). Every surface — HTML and HTMX handlers, the JSON API, the
// admin console, background jobs at enqueue time, and the services that
// re-check under the advisory row lock — asks this package; templates only
// display its decisions.
//
// The package is pure: callers (the store) load the facts about the caller
// (Subject) and the advisory or project acted on (Target); Resolve derives the
// caller's role and Can turns a Capability into a Decision whose Err() wraps
// ErrUnauthenticated, ErrNotFound or ErrForbidden (apperr kinds). Nothing here
// reads the database, the clock, the environment or the request. State, Kind
// and ReviewStatus are package advisory's types.
//
// Typical use in a handler or service (the latter on the locked row):
//
//	if err := access.Check(subject, access.CapPublish, target); err != nil {
//		return err // 401 / 404 / 403 by apperr kind
//	}
//	if access.NeedsStepUp(access.CapPublish) { … }
//
// Sources: permissions.md §3 (resolution), §4 (capability matrix), §5
// (predicates, implemented exactly unless noted), §6 (state overrides), §7
// (mature publisher), §8 (step-up), §9 (maintenance), §13 (chosen behaviour).
// The contract test (matrix_test.go) writes the whole matrix out as data.
//
// Fail-closed rules that go beyond the spec's wording are documented where
// they apply: an anonymous, banned (INV-AUTH-8) or shadow (INV-OIDC-5)
// subject resolves to no role and can do nothing but file a public triage
// report; a grant row carrying anything but viewer/collaborator is ignored
// (INV-AUTH-3); group id 0 never matches; an advisory-scoped Target with an
// unknown state, kind or review status is refused.
package access
