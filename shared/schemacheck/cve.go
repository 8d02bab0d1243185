package schemacheck

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The official CVE JSON 5.x record schema (CVEProject/cve-schema) is not
// vendored: no Go module ships it. Until it is, ValidateCVERecord checks in
// Go the rules of CVE_Record_Format.json 5.2.0 that a CNA-published or
// CNA-rejected record built by shared/cverecord can touch: required
// members, the closed member sets (additionalProperties: false), string
// lengths, patterns of ids and timestamps, enums and the CVSS metric
// objects. Formats stay annotations, as in the original.

var (
	cveIDRe     = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)
	uuidRe      = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)
	timestampRe = regexp.MustCompile(`^(((2000|2400|2800|(19|2[0-9](0[48]|[2468][048]|[13579][26])))-02-29)|(((19|2[0-9])[0-9]{2})-02-(0[1-9]|1[0-9]|2[0-8]))|(((19|2[0-9])[0-9]{2})-(0[13578]|10|12)-(0[1-9]|[12][0-9]|3[01]))|(((19|2[0-9])[0-9]{2})-(0[469]|11)-(0[1-9]|[12][0-9]|30)))T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$`)
	langRe      = regexp.MustCompile(`^[A-Za-z]{2,4}([_-][A-Za-z]{4})?([_-]([A-Za-z]{2}|[0-9]{3}))?$`)
	cweIDRe     = regexp.MustCompile(`^CWE-[1-9][0-9]*$`)
	cvss20Re    = regexp.MustCompile(`^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$`)
	cvss3Re     = regexp.MustCompile(`^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$`)
	cvss4Re     = regexp.MustCompile(`^CVSS:4[.]0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN](/E:[XAPU])?(/CR:[XHML])?(/IR:[XHML])?(/AR:[XHML])?(/MAV:[XNALP])?(/MAC:[XLH])?(/MAT:[XNP])?(/MPR:[XNLH])?(/MUI:[XNPA])?(/MVC:[XNLH])?(/MVI:[XNLH])?(/MVA:[XNLH])?(/MSC:[XNLH])?(/MSI:[XNLHS])?(/MSA:[XNLHS])?(/S:[XNP])?(/AU:[XNY])?(/R:[XAUI])?(/V:[XDC])?(/RE:[XLMH])?(/U:(X|Clear|Green|Amber|Red))?$`)
)

// ValidateCVERecord checks a CVE JSON 5.x record (PUBLISHED or REJECTED,
// CNA container only) against the rules above.
func ValidateCVERecord(doc []byte) error {
	inst, err := decode(doc)
	if err != nil {
		return &Error{Kind: "cve", Problems: []Problem{{Message: err.Error()}}}
	}
	c := &cveChecker{}
	c.record(inst)
	return newError("cve", c.problems)
}

type cveChecker struct{ problems []Problem }

func (c *cveChecker) add(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// object checks that v is an object with the required members and no
// others than allowed; it returns the object (nil if v is not one).
func (c *cveChecker) object(path string, v any, required, allowed []string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		c.add(path, "must be an object")
		return nil
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			c.add(path, "missing property %q", k)
		}
	}
	for k := range m {
		if !slices.Contains(allowed, k) && !slices.Contains(required, k) {
			c.add(path+"/"+k, "additional property not allowed")
		}
	}
	return m
}

func (c *cveChecker) array(path string, v any, minItems, maxItems int) []any {
	a, ok := v.([]any)
	if !ok {
		c.add(path, "must be an array")
		return nil
	}
	if len(a) < minItems {
		c.add(path, "must have at least %d items", minItems)
	}
	if maxItems > 0 && len(a) > maxItems {
		c.add(path, "must have at most %d items", maxItems)
	}
	return a
}

func (c *cveChecker) str(path string, v any, minLen, maxLen int, re *regexp.Regexp) string {
	s, ok := v.(string)
	if !ok {
		c.add(path, "must be a string")
		return ""
	}
	n := utf8.RuneCountInString(s)
	if n < minLen {
		c.add(path, "must be at least %d characters", minLen)
	}
	if maxLen > 0 && n > maxLen {
		c.add(path, "must be at most %d characters", maxLen)
	}
	if re != nil && !re.MatchString(s) {
		c.add(path, "does not match %s", re)
	}
	return s
}

func (c *cveChecker) enum(path string, v any, values ...string) {
	s, ok := v.(string)
	if !ok || !slices.Contains(values, s) {
		c.add(path, "must be one of %q", values)
	}
}

func (c *cveChecker) optional(m map[string]any, key string, check func(v any)) {
	if v, ok := m[key]; ok {
		check(v)
	}
}

func (c *cveChecker) record(v any) {
	m := c.object("", v, []string{"dataType", "dataVersion", "cveMetadata", "containers"}, nil)
	if m == nil {
		return
	}
	c.enum("/dataType", m["dataType"], "CVE_RECORD")
	c.enum("/dataVersion", m["dataVersion"], "5.0", "5.1", "5.1.1", "5.2.0")
	meta, _ := m["cveMetadata"].(map[string]any)
	state, _ := meta["state"].(string)
	switch state {
	case "PUBLISHED":
		meta = c.object("/cveMetadata", m["cveMetadata"], []string{"cveId", "assignerOrgId", "state"},
			[]string{"assignerShortName", "requesterUserId", "dateUpdated", "serial", "dateReserved", "datePublished"})
	case "REJECTED":
		meta = c.object("/cveMetadata", m["cveMetadata"], []string{"cveId", "assignerOrgId", "state"},
			[]string{"assignerShortName", "serial", "dateUpdated", "datePublished", "dateRejected", "dateReserved"})
	default:
		c.add("/cveMetadata/state", `must be "PUBLISHED" or "REJECTED"`)
		return
	}
	if meta == nil {
		return
	}
	c.optional(meta, "cveId", func(v any) { c.str("/cveMetadata/cveId", v, 0, 0, cveIDRe) })
	c.optional(meta, "assignerOrgId", func(v any) { c.str("/cveMetadata/assignerOrgId", v, 0, 0, uuidRe) })
	c.optional(meta, "assignerShortName", func(v any) { c.str("/cveMetadata/assignerShortName", v, 2, 32, nil) })
	for _, k := range []string{"dateUpdated", "dateReserved", "datePublished", "dateRejected"} {
		c.optional(meta, k, func(v any) { c.str("/cveMetadata/"+k, v, 0, 0, timestampRe) })
	}
	containers := c.object("/containers", m["containers"], []string{"cna"}, []string{"adp"})
	if containers == nil {
		return
	}
	if state == "PUBLISHED" {
		c.publishedCNA("/containers/cna", containers["cna"])
	} else {
		c.rejectedCNA("/containers/cna", containers["cna"])
	}
}

func (c *cveChecker) providerMetadata(path string, v any) {
	m := c.object(path, v, []string{"orgId"}, []string{"shortName", "dateUpdated"})
	if m == nil {
		return
	}
	c.optional(m, "orgId", func(v any) { c.str(path+"/orgId", v, 0, 0, uuidRe) })
	c.optional(m, "shortName", func(v any) { c.str(path+"/shortName", v, 2, 32, nil) })
	c.optional(m, "dateUpdated", func(v any) { c.str(path+"/dateUpdated", v, 0, 0, timestampRe) })
}

func (c *cveChecker) descriptions(path string, v any, maxLen int) {
	for i, d := range c.array(path, v, 1, 0) {
		p := path + "/" + strconv.Itoa(i)
		m := c.object(p, d, []string{"lang", "value"}, []string{"supportingMedia"})
		if m == nil {
			continue
		}
		c.optional(m, "lang", func(v any) { c.str(p+"/lang", v, 0, 0, langRe) })
		c.optional(m, "value", func(v any) { c.str(p+"/value", v, 1, maxLen, nil) })
	}
}

func (c *cveChecker) rejectedCNA(path string, v any) {
	m := c.object(path, v, []string{"providerMetadata", "rejectedReasons"}, []string{"replacedBy"})
	if m == nil {
		return
	}
	c.providerMetadata(path+"/providerMetadata", m["providerMetadata"])
	c.optional(m, "rejectedReasons", func(v any) { c.descriptions(path+"/rejectedReasons", v, 4096) })
}

func (c *cveChecker) publishedCNA(path string, v any) {
	m := c.object(path, v, []string{"providerMetadata", "descriptions", "affected", "references"},
		[]string{"dateAssigned", "datePublic", "title", "problemTypes", "impacts", "metrics", "configurations",
			"workarounds", "solutions", "exploits", "timeline", "credits", "source", "tags", "taxonomyMappings", "cpeApplicability"})
	if m == nil {
		return
	}
	c.providerMetadata(path+"/providerMetadata", m["providerMetadata"])
	c.optional(m, "title", func(v any) { c.str(path+"/title", v, 1, 256, nil) })
	c.optional(m, "descriptions", func(v any) { c.descriptions(path+"/descriptions", v, 4096) })
	c.optional(m, "affected", func(v any) {
		for i, a := range c.array(path+"/affected", v, 1, 0) {
			c.product(path+"/affected/"+strconv.Itoa(i), a)
		}
	})
	c.optional(m, "references", func(v any) {
		for i, r := range c.array(path+"/references", v, 1, 512) {
			p := path + "/references/" + strconv.Itoa(i)
			if rm := c.object(p, r, []string{"url"}, []string{"name", "tags"}); rm != nil {
				c.optional(rm, "url", func(v any) { c.uri(p+"/url", v) })
			}
		}
	})
	c.optional(m, "problemTypes", func(v any) {
		for i, pt := range c.array(path+"/problemTypes", v, 1, 0) {
			p := path + "/problemTypes/" + strconv.Itoa(i)
			ptm := c.object(p, pt, []string{"descriptions"}, nil)
			if ptm == nil {
				continue
			}
			for j, d := range c.array(p+"/descriptions", ptm["descriptions"], 1, 0) {
				dp := p + "/descriptions/" + strconv.Itoa(j)
				dm := c.object(dp, d, []string{"lang", "description"}, []string{"cweId", "type", "references"})
				if dm == nil {
					continue
				}
				c.optional(dm, "lang", func(v any) { c.str(dp+"/lang", v, 0, 0, langRe) })
				c.optional(dm, "description", func(v any) { c.str(dp+"/description", v, 1, 4096, nil) })
				c.optional(dm, "cweId", func(v any) { c.str(dp+"/cweId", v, 5, 9, cweIDRe) })
				c.optional(dm, "type", func(v any) { c.str(dp+"/type", v, 1, 128, nil) })
			}
		}
	})
	c.optional(m, "metrics", func(v any) {
		for i, mt := range c.array(path+"/metrics", v, 1, 0) {
			c.metric(path+"/metrics/"+strconv.Itoa(i), mt)
		}
	})
	c.optional(m, "credits", func(v any) {
		for i, cr := range c.array(path+"/credits", v, 1, 0) {
			p := path + "/credits/" + strconv.Itoa(i)
			crm := c.object(p, cr, []string{"lang", "value"}, []string{"user", "type"})
			if crm == nil {
				continue
			}
			c.optional(crm, "lang", func(v any) { c.str(p+"/lang", v, 0, 0, langRe) })
			c.optional(crm, "value", func(v any) { c.str(p+"/value", v, 1, 4096, nil) })
			c.optional(crm, "type", func(v any) {
				c.enum(p+"/type", v, "finder", "reporter", "analyst", "coordinator", "remediation developer",
					"remediation reviewer", "remediation verifier", "tool", "sponsor", "other")
			})
		}
	})
}

func (c *cveChecker) uri(path string, v any) {
	s := c.str(path, v, 1, 2048, nil)
	if u, err := url.Parse(s); s != "" && (err != nil || !u.IsAbs()) {
		c.add(path, "must be an absolute URI")
	}
}

func (c *cveChecker) product(path string, v any) {
	m := c.object(path, v, nil, []string{"vendor", "product", "collectionURL", "packageName", "cpes", "modules",
		"programFiles", "programRoutines", "platforms", "repo", "defaultStatus", "versions", "packageURL"})
	if m == nil {
		return
	}
	_, hasVendor := m["vendor"]
	_, hasProduct := m["product"]
	_, hasColl := m["collectionURL"]
	_, hasPkg := m["packageName"]
	if !(hasVendor && hasProduct) && !(hasColl && hasPkg) {
		c.add(path, "needs vendor and product, or collectionURL and packageName")
	}
	_, hasVersions := m["versions"]
	_, hasDefault := m["defaultStatus"]
	if !hasVersions && !hasDefault {
		c.add(path, "needs versions or defaultStatus")
	}
	c.optional(m, "vendor", func(v any) { c.str(path+"/vendor", v, 1, 512, nil) })
	c.optional(m, "product", func(v any) { c.str(path+"/product", v, 1, 2048, nil) })
	c.optional(m, "collectionURL", func(v any) { c.uri(path+"/collectionURL", v) })
	c.optional(m, "packageName", func(v any) { c.str(path+"/packageName", v, 1, 2048, nil) })
	c.optional(m, "defaultStatus", func(v any) { c.enum(path+"/defaultStatus", v, "affected", "unaffected", "unknown") })
	c.optional(m, "versions", func(v any) {
		for i, ver := range c.array(path+"/versions", v, 1, 0) {
			p := path + "/versions/" + strconv.Itoa(i)
			vm := c.object(p, ver, []string{"version", "status"}, []string{"versionType", "lessThan", "lessThanOrEqual", "changes"})
			if vm == nil {
				continue
			}
			c.optional(vm, "version", func(v any) { c.str(p+"/version", v, 1, 1024, nil) })
			c.optional(vm, "status", func(v any) { c.enum(p+"/status", v, "affected", "unaffected", "unknown") })
			c.optional(vm, "versionType", func(v any) { c.str(p+"/versionType", v, 1, 128, nil) })
			_, lt := vm["lessThan"]
			_, lte := vm["lessThanOrEqual"]
			if lt && lte {
				c.add(p, "must not have both lessThan and lessThanOrEqual")
			}
			if (lt || lte) && vm["versionType"] == nil {
				c.add(p, "a range needs a versionType")
			}
			c.optional(vm, "lessThan", func(v any) { c.str(p+"/lessThan", v, 1, 1024, nil) })
			c.optional(vm, "lessThanOrEqual", func(v any) { c.str(p+"/lessThanOrEqual", v, 1, 1024, nil) })
		}
	})
}

func (c *cveChecker) metric(path string, v any) {
	m := c.object(path, v, nil, []string{"format", "scenarios", "cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0", "other"})
	if m == nil {
		return
	}
	n := 0
	for _, k := range []string{"cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0", "other"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	if n == 0 {
		c.add(path, "needs one of cvssV4_0, cvssV3_1, cvssV3_0, cvssV2_0 or other")
	}
	c.optional(m, "cvssV2_0", func(v any) { c.cvss(path+"/cvssV2_0", v, "2.0", cvss20Re, false) })
	c.optional(m, "cvssV3_0", func(v any) { c.cvss(path+"/cvssV3_0", v, "3.0", cvss3Re, true) })
	c.optional(m, "cvssV3_1", func(v any) { c.cvss(path+"/cvssV3_1", v, "3.1", cvss3Re, true) })
	c.optional(m, "cvssV4_0", func(v any) { c.cvss(path+"/cvssV4_0", v, "4.0", cvss4Re, true) })
	c.optional(m, "other", func(v any) {
		om := c.object(path+"/other", v, []string{"type", "content"}, nil)
		if om == nil {
			return
		}
		c.optional(om, "type", func(v any) { c.str(path+"/other/type", v, 1, 128, nil) })
		c.optional(om, "content", func(v any) {
			if cm, ok := v.(map[string]any); !ok || len(cm) == 0 {
				c.add(path+"/other/content", "must be a non-empty object")
			}
		})
	})
}

// cvss checks the members of a CVSS metric object this system emits; the
// FIRST schemas allow more (the individual metric fields), which are not
// emitted and so not listed.
func (c *cveChecker) cvss(path string, v any, version string, re *regexp.Regexp, severity bool) {
	required := []string{"version", "vectorString", "baseScore"}
	if severity {
		required = append(required, "baseSeverity")
	}
	m := c.object(path, v, required, nil)
	if m == nil {
		return
	}
	c.enum(path+"/version", m["version"], version)
	c.optional(m, "vectorString", func(v any) {
		s := c.str(path+"/vectorString", v, 0, 0, re)
		if version != "2.0" && len(s) >= 8 && s[5:8] != version {
			c.add(path+"/vectorString", "is not a CVSS %s vector", version)
		}
	})
	c.optional(m, "baseScore", func(v any) {
		n, ok := v.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil || f < 0 || f > 10 {
			c.add(path+"/baseScore", "must be a number from 0 to 10")
		}
	})
	if severity {
		c.optional(m, "baseSeverity", func(v any) { c.enum(path+"/baseSeverity", v, "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL") })
	}
}
