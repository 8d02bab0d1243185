package advisory

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// cvssPrefix recognises the version header of a CVSS v3/v4 vector.
var cvssPrefix = regexp.MustCompile(`^CVSS:([0-9]+\.[0-9]+)/`)

// cvssVersions returns the vector versions a CVSS severity type accepts;
// CVSS_V2 vectors carry no header.
func cvssVersions(t SeverityType) []string {
	switch t {
	case SeverityCVSSV3:
		return []string{"3.0", "3.1"}
	case SeverityCVSSV4:
		return []string{"4.0"}
	}
	return nil
}

// CVSSBaseScore parses vector as a CVSS vector of the given severity type
// and returns its score, computed by github.com/pandatix/go-cvss: the base
// score for v2 and v3.x, the CVSS-B(TE) score for v4.0. The vector's version
// must match the type: CVSS_V2 takes a header-less v2 vector, CVSS_V3 a
// CVSS:3.0/ or CVSS:3.1/ vector, CVSS_V4 a CVSS:4.0/ vector.
func CVSSBaseScore(t SeverityType, vector string) (float64, error) {
	score, err := cvssScore(t, vector)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(score) || score < 0 || score > 10 {
		return 0, fmt.Errorf("CVSS score %v out of range", score)
	}
	return score, nil
}

func cvssScore(t SeverityType, vector string) (float64, error) {
	version := ""
	if m := cvssPrefix.FindStringSubmatch(vector); m != nil {
		version = m[1]
	}
	switch t {
	case SeverityCVSSV2:
		if version != "" || strings.HasPrefix(vector, "CVSS:") {
			return 0, fmt.Errorf("CVSS_V2 takes a v2 vector without a CVSS: header, such as AV:N/AC:L/Au:N/C:P/I:P/A:P")
		}
		v, err := gocvss20.ParseVector(vector)
		if err != nil {
			return 0, fmt.Errorf("invalid CVSS v2 vector: %w", err)
		}
		return v.BaseScore(), nil
	case SeverityCVSSV3, SeverityCVSSV4:
		want := cvssVersions(t)
		if version == "" {
			return 0, fmt.Errorf("%s takes a vector starting CVSS:%s/", t, strings.Join(want, "/ or CVSS:"))
		}
		if !slices.Contains(want, version) {
			return 0, fmt.Errorf("CVSS:%s vector does not match type %s", version, t)
		}
		switch version {
		case "3.0":
			v, err := gocvss30.ParseVector(vector)
			if err != nil {
				return 0, fmt.Errorf("invalid CVSS v3.0 vector: %w", err)
			}
			return v.BaseScore(), nil
		case "3.1":
			v, err := gocvss31.ParseVector(vector)
			if err != nil {
				return 0, fmt.Errorf("invalid CVSS v3.1 vector: %w", err)
			}
			return v.BaseScore(), nil
		default: // "4.0"
			v, err := gocvss40.ParseVector(vector)
			if err != nil {
				return 0, fmt.Errorf("invalid CVSS v4.0 vector: %w", err)
			}
			return v.Score(), nil
		}
	}
	return 0, errors.New("not a CVSS severity type")
}

// rank orders qualitative levels; negligible (Ubuntu) sits between none and
// low, and folds into low when stored.
type rank int

const (
	rankNone rank = iota
	rankNegligible
	rankLow
	rankMedium
	rankHigh
	rankCritical
)

// ubuntuRank ranks an Ubuntu priority word; unknown words rank none.
func ubuntuRank(word string) rank {
	switch word {
	case "negligible":
		return rankNegligible
	case "low":
		return rankLow
	case "medium":
		return rankMedium
	case "high":
		return rankHigh
	case "critical":
		return rankCritical
	}
	return rankNone
}

func (r rank) level() SeverityLevel {
	switch r {
	case rankNegligible, rankLow:
		return SeverityLow
	case rankMedium:
		return SeverityMedium
	case rankHigh:
		return SeverityHigh
	case rankCritical:
		return SeverityCritical
	}
	return SeverityNone
}

func rankOfScore(s float64) rank {
	switch {
	case s >= 9.0:
		return rankCritical
	case s >= 7.0:
		return rankHigh
	case s >= 4.0:
		return rankMedium
	case s > 0:
		return rankLow
	}
	return rankNone
}

// assess rates one severity entry; score is nil for Ubuntu entries and for
// anything unparseable.
func assess(s Severity) (rank, *float64) {
	if s.Type == SeverityUbuntu {
		return ubuntuRank(s.Score), nil
	}
	score, err := CVSSBaseScore(s.Type, s.Score)
	if err != nil {
		return rankNone, nil
	}
	return rankOfScore(score), &score
}

// DeriveSeverity computes the denormalised severity_level and
// severity_score from the severity entries (data-model §4.1).
//
// Each CVSS entry (v2, v3.x, v4.0) is scored with go-cvss: >= 9.0 critical,
// >= 7.0 high, >= 4.0 medium, > 0 low, otherwise none. Ubuntu words rank as
// themselves, negligible between none and low. Unparseable entries rank
// none. The entry maximising (rank, score) wins, an entry without a numeric
// score (Ubuntu) losing a tie to one with a score and the earlier entry
// winning a full tie. Negligible is reported as low. The score is the
// winner's CVSS score: nil for Ubuntu winners and always nil when the level
// is none.
func DeriveSeverity(entries []Severity) (SeverityLevel, *float64) {
	best, bestScore := rankNone, (*float64)(nil)
	for _, e := range entries {
		r, s := assess(e)
		if r > best || (r == best && scoreKey(s) > scoreKey(bestScore)) {
			best, bestScore = r, s
		}
	}
	if best == rankNone {
		return SeverityNone, nil
	}
	return best.level(), bestScore
}

func scoreKey(s *float64) float64 {
	if s == nil {
		return -1
	}
	return *s
}
