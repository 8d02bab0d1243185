// Package advisory is the pure domain core of an advisory: its public
// identifiers, lifecycle enums, OSV-shaped content and the frozen version
// payload, content validation and the derived severity.
//
// Nothing here touches the database, the network or the clock. The vendored
// reference data (OSV ecosystems, the MITRE CWE catalogue) is read from the
// embedded schemas.FS once, on first use.
//
// Sources: requirements §3 and §4.1, data-model §4.1 and §4.2,
// publication-formats §1.4, invariants INV-ID-1, INV-ID-2, INV-ID-3,
// INV-IMPL-4, INV-LIFECYCLE-1 and INV-VERSION-1.
package advisory
