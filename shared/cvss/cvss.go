// Package cvss scores the CVSS vectors of advisory severity entries for the
// publication exports: the vector's version, its normalised form and base
// score as computed by github.com/pandatix/go-cvss, and the qualitative
// rating (publication-formats §4.2).
package cvss

import (
	"errors"
	"fmt"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Metric is a parsed CVSS vector.
type Metric struct {
	Version string // "2.0", "3.0", "3.1" or "4.0"
	// Vector is the library's normalised vector: v3/v4 keep their
	// "CVSS:x.y/" prefix, metrics in canonical order, undefined (X/ND)
	// metrics dropped.
	Vector string
	// BaseScore is the base score (v2, v3.x) or the CVSS-B(TE) score
	// (v4.0), as advisory.CVSSBaseScore computes it.
	BaseScore float64
	// Severity is the qualitative rating of BaseScore in upper case:
	// NONE, LOW, MEDIUM, HIGH or CRITICAL (v3 and v4 scales; v2 has no
	// official rating, the v3 scale is used).
	Severity string
}

// Parse parses the score of a CVSS severity entry of type t. The vector's
// version must match the type, as advisory.CVSSBaseScore requires.
func Parse(t advisory.SeverityType, vector string) (Metric, error) {
	score, err := advisory.CVSSBaseScore(t, vector)
	if err != nil {
		return Metric{}, err
	}
	m := Metric{BaseScore: score, Severity: Rating(score)}
	switch {
	case t == advisory.SeverityCVSSV2:
		v, err := gocvss20.ParseVector(vector)
		if err != nil {
			return Metric{}, err
		}
		m.Version, m.Vector = "2.0", v.Vector()
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		v, err := gocvss30.ParseVector(vector)
		if err != nil {
			return Metric{}, err
		}
		m.Version, m.Vector = "3.0", v.Vector()
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := gocvss31.ParseVector(vector)
		if err != nil {
			return Metric{}, err
		}
		m.Version, m.Vector = "3.1", v.Vector()
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		v, err := gocvss40.ParseVector(vector)
		if err != nil {
			return Metric{}, err
		}
		m.Version, m.Vector = "4.0", v.Vector()
	default:
		return Metric{}, errors.New("cvss: unrecognised vector")
	}
	if m.Vector == "" {
		return Metric{}, fmt.Errorf("cvss: empty normalised vector for %q", vector)
	}
	return m, nil
}

// Rating is the qualitative rating of a score on the CVSS v3/v4 scale.
func Rating(score float64) string {
	switch {
	case score >= 9.0:
		return "CRITICAL"
	case score >= 7.0:
		return "HIGH"
	case score >= 4.0:
		return "MEDIUM"
	case score >= 0.1:
		return "LOW"
	}
	return "NONE"
}
