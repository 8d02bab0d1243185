package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// TestConcurrentPatchesBothLand: partial edits apply to the content as it
// stands under the row lock, so concurrent PATCHes of different fields
// both survive, each appends its own version (v2 and v3, never two v2;
// INV-VERSION-1), and neither undoes the other.
func TestConcurrentPatchesBothLand(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	for round := range 5 {
		a := f.lanternDraft(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		patch := func(i int, apply func(*advisory.Content)) {
			defer wg.Done()
			_, errs[i] = f.svc.Patch(ctx, f.owner, a.AdvisoryID, func(c *advisory.Content) error {
				apply(c)
				return nil
			})
		}
		wg.Add(2)
		go patch(0, func(c *advisory.Content) { c.Summary = fmt.Sprintf("Summary of round %d", round) })
		go patch(1, func(c *advisory.Content) { c.CWEIDs = []string{"CWE-22"} })
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := f.reload(t, a)
		if got.Content.Summary != fmt.Sprintf("Summary of round %d", round) || len(got.Content.CWEIDs) != 1 {
			t.Fatalf("round %d: summary %q, cwe %v: one patch undid the other", round, got.Content.Summary, got.Content.CWEIDs)
		}
		vs, err := f.svc.Versions(ctx, f.owner, a.AdvisoryID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 3 || vs[1].Number != 2 || vs[2].Number != 3 {
			t.Fatalf("round %d: %d versions", round, len(vs))
		}
		if vs[2].Payload.Content.Summary != got.Content.Summary {
			t.Fatalf("round %d: v3 summary %q, row %q", round, vs[2].Payload.Content.Summary, got.Content.Summary)
		}
	}
	// A patch that fails writes nothing.
	a := f.lanternDraft(t)
	if _, err := f.svc.Patch(ctx, f.owner, a.AdvisoryID, func(c *advisory.Content) error {
		c.Summary = "half-applied"
		return fmt.Errorf("bad field")
	}); err == nil {
		t.Fatal("a failing patch succeeded")
	}
	if got := f.reload(t, a); got.Content.Summary == "half-applied" {
		t.Fatal("a failing patch was written")
	}
}
