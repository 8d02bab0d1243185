// Package web holds the HTML templates and static assets, embedded into the
// web function.
package web

import "embed"

// Templates holds the html/template files.
//
//go:embed templates/*.html
var Templates embed.FS

// Static holds the CSS, scripts and images served under /static/.
//
//go:embed static
var Static embed.FS
