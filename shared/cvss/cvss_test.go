package cvss

import (
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		t                     advisory.SeverityType
		in, version, vec, sev string
		score                 float64
	}{
		{advisory.SeverityCVSSV2, "AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", "HIGH", 7.5},
		{advisory.SeverityCVSSV3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CRITICAL", 9.8},
		{advisory.SeverityCVSSV3, "CVSS:3.0/AV:N/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N", "3.0", "CVSS:3.0/AV:N/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N", "LOW", 3.0},
		{advisory.SeverityCVSSV4, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CRITICAL", 9.3},
	} {
		m, err := Parse(c.t, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if m.Version != c.version || m.Vector != c.vec || m.Severity != c.sev || m.BaseScore != c.score {
			t.Errorf("Parse(%s) = %+v", c.in, m)
		}
	}
	if _, err := Parse(advisory.SeverityCVSSV3, "CVSS:4.0/AV:N"); err == nil {
		t.Error("mismatched vector accepted")
	}
	for s, want := range map[float64]string{0: "NONE", 0.1: "LOW", 3.9: "LOW", 4: "MEDIUM", 7: "HIGH", 9: "CRITICAL", 10: "CRITICAL"} {
		if got := Rating(s); got != want {
			t.Errorf("Rating(%v) = %s, want %s", s, got, want)
		}
	}
}
