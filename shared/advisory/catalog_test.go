package advisory

import (
	"slices"
	"testing"
)

func TestEcosystems(t *testing.T) {
	eco := Ecosystems()
	for _, want := range []string{"npm", "PyPI", "Maven", "Go", "crates.io", "Debian", "GIT"} {
		if !slices.Contains(eco, want) {
			t.Errorf("Ecosystems() lacks %q", want)
		}
	}
	if got := OSVSchemaVersion(); got != "1.7.5" {
		t.Errorf("OSVSchemaVersion() = %q, want 1.7.5 (publication-formats §1.4)", got)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{"npm", true},
		{"PyPI", true},
		{"Maven", true},
		{"Go", true},
		{"GIT", true},
		{"Debian:12", true},
		{"Ubuntu:Pro:22.04:LTS", true},
		{"Alpine:v3.19", true},
		{"Debian:", false},
		{"NPM", false},
		{"pypi", false},
		{"Unknown", false},
		{"", false},
		{":12", false},
	}
	for _, tt := range tests {
		if got := ValidEcosystem(tt.in); got != tt.want {
			t.Errorf("ValidEcosystem(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	// The returned slice is a copy.
	eco[0] = "mutated"
	if Ecosystems()[0] == "mutated" {
		t.Error("Ecosystems() exposes internal state")
	}
}

func TestCWEName(t *testing.T) {
	tests := []struct {
		id       string
		wantName string
		wantOK   bool
	}{
		{"CWE-79", "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')", true},
		{"CWE-89", "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')", true},
		{"CWE-1004", "Sensitive Cookie Without 'HttpOnly' Flag", true},
		{"CWE-16", "", false},   // category: Configuration
		{"CWE-1000", "", false}, // view: Research Concepts
		{"CWE-2000", "", false}, // view: Comprehensive CWE Dictionary
		{"CWE-0", "", false},
		{"CWE-079", "", false},
		{"cwe-79", "", false},
		{"79", "", false},
		{"CWE-79 ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			name, ok := CWEName(tt.id)
			if name != tt.wantName || ok != tt.wantOK {
				t.Errorf("CWEName(%q) = %q, %v; want %q, %v", tt.id, name, ok, tt.wantName, tt.wantOK)
			}
		})
	}
	if got := CWEVersion(); got != "4.15" {
		t.Errorf("CWEVersion() = %q, want 4.15", got)
	}
}
