package advisory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Real vectors with their published base scores.
const (
	v2High      = "AV:N/AC:L/Au:N/C:P/I:P/A:P"                                      // 7.5
	v2Low       = "AV:L/AC:H/Au:M/C:N/I:N/A:P"                                      // 0.8
	v30Critical = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"                    // 9.8
	v31Medium   = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"                    // 6.1
	v31High     = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"                    // 7.5
	v31Low      = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"                    // 1.8
	v31Zero     = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"                    // 0.0
	v40Critical = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" // 9.3
	v40Low      = "CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N" // 1.0
	v40Zero     = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N" // 0.0
)

func ptr(f float64) *float64 { return &f }

func TestCVSSBaseScore(t *testing.T) {
	tests := []struct {
		typ    SeverityType
		vector string
		want   float64
	}{
		{SeverityCVSSV2, v2High, 7.5},
		{SeverityCVSSV2, v2Low, 0.8},
		{SeverityCVSSV3, v30Critical, 9.8},
		{SeverityCVSSV3, v31Medium, 6.1},
		{SeverityCVSSV3, v31Low, 1.8},
		{SeverityCVSSV3, v31Zero, 0},
		{SeverityCVSSV4, v40Critical, 9.3},
		{SeverityCVSSV4, v40Low, 1.0},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			got, err := CVSSBaseScore(tt.typ, tt.vector)
			if err != nil || got != tt.want {
				t.Errorf("CVSSBaseScore(%s, %q) = %v, %v; want %v", tt.typ, tt.vector, got, err, tt.want)
			}
		})
	}
	for _, bad := range []struct {
		typ    SeverityType
		vector string
	}{
		{SeverityCVSSV3, v40Critical},
		{SeverityCVSSV4, v31Medium},
		{SeverityCVSSV2, v31Medium},
		{SeverityCVSSV3, v2High},
		{SeverityCVSSV3, "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
		{SeverityCVSSV3, "garbage"},
		{SeverityUbuntu, "high"},
		{SeverityCVSSV3, v31Medium + " "},
	} {
		if _, err := CVSSBaseScore(bad.typ, bad.vector); err == nil {
			t.Errorf("CVSSBaseScore(%s, %q) accepted", bad.typ, bad.vector)
		}
	}
}

func TestDeriveSeverity(t *testing.T) {
	type result struct {
		Level SeverityLevel
		Score *float64
	}
	cvss3 := func(v string) Severity { return Severity{Type: SeverityCVSSV3, Score: v} }
	ubuntu := func(w string) Severity { return Severity{Type: SeverityUbuntu, Score: w} }
	tests := []struct {
		name    string
		entries []Severity
		want    result
	}{
		{"no entries", nil, result{SeverityNone, nil}},
		{"v2 high", []Severity{{Type: SeverityCVSSV2, Score: v2High}}, result{SeverityHigh, ptr(7.5)}},
		{"v2 low", []Severity{{Type: SeverityCVSSV2, Score: v2Low}}, result{SeverityLow, ptr(0.8)}},
		{"v3.0 critical", []Severity{cvss3(v30Critical)}, result{SeverityCritical, ptr(9.8)}},
		{"v3.1 medium", []Severity{cvss3(v31Medium)}, result{SeverityMedium, ptr(6.1)}},
		{"v3.1 low", []Severity{cvss3(v31Low)}, result{SeverityLow, ptr(1.8)}},
		{"v3.1 zero is none with no score", []Severity{cvss3(v31Zero)}, result{SeverityNone, nil}},
		{"v4.0 critical", []Severity{{Type: SeverityCVSSV4, Score: v40Critical}}, result{SeverityCritical, ptr(9.3)}},
		{"v4.0 zero", []Severity{{Type: SeverityCVSSV4, Score: v40Zero}}, result{SeverityNone, nil}},
		{"ubuntu high has no score", []Severity{ubuntu("high")}, result{SeverityHigh, nil}},
		{"ubuntu negligible folds to low", []Severity{ubuntu("negligible")}, result{SeverityLow, nil}},
		{"ubuntu critical", []Severity{ubuntu("critical")}, result{SeverityCritical, nil}},
		{"ubuntu unknown word", []Severity{ubuntu("High")}, result{SeverityNone, nil}},
		{"garbage", []Severity{cvss3("garbage")}, result{SeverityNone, nil}},
		{"mismatched version is unparseable", []Severity{cvss3(v40Critical)}, result{SeverityNone, nil}},
		{"unknown type", []Severity{{Type: "CVSS_V5", Score: v31High}}, result{SeverityNone, nil}},
		{"worst entry wins", []Severity{cvss3(v31Medium), {Type: SeverityCVSSV4, Score: v40Critical}, cvss3(v31High)},
			result{SeverityCritical, ptr(9.3)}},
		{"higher score wins within a rank", []Severity{cvss3(v31High), {Type: SeverityCVSSV2, Score: v2High}, cvss3(v30Critical), {Type: SeverityCVSSV2, Score: v2High}},
			result{SeverityCritical, ptr(9.8)}},
		{"ubuntu rank beats a lower CVSS", []Severity{cvss3(v31Medium), ubuntu("high")}, result{SeverityHigh, nil}},
		{"CVSS beats ubuntu at the same rank", []Severity{ubuntu("high"), cvss3(v31High)}, result{SeverityHigh, ptr(7.5)}},
		{"CVSS beats ubuntu at the same rank, either order", []Severity{cvss3(v31High), ubuntu("high")}, result{SeverityHigh, ptr(7.5)}},
		{"low CVSS beats negligible", []Severity{ubuntu("negligible"), cvss3(v31Low)}, result{SeverityLow, ptr(1.8)}},
		{"garbage beside a valid entry", []Severity{cvss3("garbage"), cvss3(v31Low)}, result{SeverityLow, ptr(1.8)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			level, score := DeriveSeverity(tt.entries)
			if diff := cmp.Diff(tt.want, result{level, score}); diff != "" {
				t.Errorf("DeriveSeverity (-want +got):\n%s", diff)
			}
		})
	}
}
