package csaf

import (
	"github.com/eclipse-csi/advisoryhub/shared/canonjson"
)

// The CSAF 2.0 document, as much of it as Build fills. Key order does not
// matter: canonjson sorts keys.

// Document is a CSAF 2.0 document.
type Document struct {
	Document        DocumentMeta    `json:"document"`
	ProductTree     ProductTree     `json:"product_tree"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
}

// DocumentMeta is the document property.
type DocumentMeta struct {
	Category     string        `json:"category"`
	CSAFVersion  string        `json:"csaf_version"`
	Lang         string        `json:"lang"`
	Title        string        `json:"title"`
	Publisher    Publisher     `json:"publisher"`
	Distribution *Distribution `json:"distribution,omitempty"`
	Notes        []Note        `json:"notes,omitempty"`
	References   []Reference   `json:"references,omitempty"`
	Tracking     Tracking      `json:"tracking"`
}

// Publisher is document.publisher.
type Publisher struct {
	Category  string `json:"category"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Distribution is document.distribution.
type Distribution struct {
	TLP TLP `json:"tlp"`
}

// TLP is a Traffic Light Protocol label.
type TLP struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Note is a document or vulnerability note.
type Note struct {
	Category string `json:"category"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text"`
}

// Reference is a document or vulnerability reference.
type Reference struct {
	Category string `json:"category"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

// Tracking is document.tracking.
type Tracking struct {
	ID                 string     `json:"id"`
	Status             string     `json:"status"`
	Version            string     `json:"version"`
	InitialReleaseDate string     `json:"initial_release_date"`
	CurrentReleaseDate string     `json:"current_release_date"`
	RevisionHistory    []Revision `json:"revision_history"`
	Generator          *Generator `json:"generator,omitempty"`
}

// Revision is one revision_history entry.
type Revision struct {
	Date    string `json:"date"`
	Number  string `json:"number"`
	Summary string `json:"summary"`
}

// Generator is tracking.generator.
type Generator struct {
	Engine Engine `json:"engine"`
}

// Engine is tracking.generator.engine.
type Engine struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// ProductTree is product_tree.
type ProductTree struct {
	Branches []Branch `json:"branches"`
}

// Branch is a product tree branch; a leaf has Product set.
type Branch struct {
	Category string           `json:"category"`
	Name     string           `json:"name"`
	Branches []Branch         `json:"branches,omitempty"`
	Product  *FullProductName `json:"product,omitempty"`
}

// FullProductName names a product and gives its id.
type FullProductName struct {
	Name                        string                       `json:"name"`
	ProductID                   string                       `json:"product_id"`
	ProductIdentificationHelper *ProductIdentificationHelper `json:"product_identification_helper,omitempty"`
}

// ProductIdentificationHelper identifies a product; only purl is used.
type ProductIdentificationHelper struct {
	PURL string `json:"purl"`
}

// Vulnerability is one vulnerabilities entry.
type Vulnerability struct {
	Title           string           `json:"title"`
	CVE             string           `json:"cve,omitempty"`
	IDs             []ID             `json:"ids,omitempty"`
	CWE             *CWE             `json:"cwe,omitempty"`
	Notes           []Note           `json:"notes,omitempty"`
	References      []Reference      `json:"references,omitempty"`
	ProductStatus   ProductStatus    `json:"product_status"`
	Remediations    []Remediation    `json:"remediations,omitempty"`
	Scores          []Score          `json:"scores,omitempty"`
	Threats         []Threat         `json:"threats,omitempty"`
	Acknowledgments []Acknowledgment `json:"acknowledgments,omitempty"`
}

// ID is a vulnerabilities[].ids entry.
type ID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

// CWE is vulnerabilities[].cwe.
type CWE struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ProductStatus lists product ids by status.
type ProductStatus struct {
	Fixed         []string `json:"fixed,omitempty"`
	KnownAffected []string `json:"known_affected,omitempty"`
	LastAffected  []string `json:"last_affected,omitempty"`
}

// Remediation is a vulnerabilities[].remediations entry.
type Remediation struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	ProductIDs []string `json:"product_ids"`
}

// Score is a vulnerabilities[].scores entry.
type Score struct {
	Products []string `json:"products"`
	CVSSv2   *CVSSv2  `json:"cvss_v2,omitempty"`
	CVSSv3   *CVSSv3  `json:"cvss_v3,omitempty"`
}

// CVSSv2 is the FIRST CVSS v2.0 JSON object (required members only).
type CVSSv2 struct {
	Version      string          `json:"version"`
	VectorString string          `json:"vectorString"`
	BaseScore    canonjson.Float `json:"baseScore"`
}

// CVSSv3 is the FIRST CVSS v3.x JSON object (required members only).
type CVSSv3 struct {
	Version      string          `json:"version"`
	VectorString string          `json:"vectorString"`
	BaseScore    canonjson.Float `json:"baseScore"`
	BaseSeverity string          `json:"baseSeverity"`
}

// Threat is a vulnerabilities[].threats entry.
type Threat struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// Acknowledgment is a vulnerabilities[].acknowledgments entry.
type Acknowledgment struct {
	Names   []string `json:"names,omitempty"`
	Summary string   `json:"summary,omitempty"`
	URLs    []string `json:"urls,omitempty"`
}

func floatOf(f float64) canonjson.Float { return canonjson.Float(f) }
