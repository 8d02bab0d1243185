package exporttest

import "testing"

// The fixtures must be content the editor accepts.
func TestFixturesValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"Rich", Rich().Content.Validate()},
		{"Withdrawn", Withdrawn().Content.Validate()},
		{"Minimal", Minimal().Content.Validate()},
		{"PackageSeverity", PackageSeverity().Content.Validate()},
	} {
		if c.err != nil {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
}
