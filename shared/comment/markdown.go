package comment

import (
	"bytes"
	"html/template"
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Markdown rendering (requirements §4.4, §7.1). Bodies are stored as raw
// Markdown and rendered on every read; the HTML is never stored, so a
// tighter allowlist applies retroactively. Two layers:
//
//  1. goldmark renders CommonMark plus tables. Raw HTML — inline or block —
//     is written out as escaped text, never as markup; images become their
//     alt text; links keep only a safe href and always get
//     rel="nofollow noopener"; @mentions become span.mention chips.
//  2. bluemonday then removes anything outside the allowlist, should the
//     first layer ever emit it.
//
// The allowlist: p, br, strong, em, u, code, pre, blockquote, hr, ul, ol,
// li, h1–h6, a (href, rel), table, thead, tbody, tr, th, td, and span
// carrying only class="mention".

// AllowedElements lists the elements rendered output may contain.
var AllowedElements = []string{
	"p", "br", "strong", "em", "u", "code", "pre", "blockquote", "hr",
	"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
	"a", "table", "thead", "tbody", "tr", "th", "td", "span",
}

// LinkRel is the rel attribute of every rendered link.
const LinkRel = "nofollow noopener"

// MentionClass is the class of a mention chip.
const MentionClass = "mention"

// allowedSchemes are the URL schemes a link may carry; a relative URL has
// none.
var allowedSchemes = []string{"http", "https", "mailto"}

// SafeURL reports whether raw may be a rendered link's href: it parses, and
// it is relative or uses http, https or mailto.
func SafeURL(raw string) bool {
	if strings.ContainsAny(raw, "\x00\t\r\n") {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "" {
		// A relative URL: refuse anything a browser could still read as
		// a scheme (e.g. "java\u00adscript:" survives no parse, but be
		// strict about a colon before the first slash).
		head, _, _ := strings.Cut(raw, "/")
		return !strings.Contains(head, ":")
	}
	for _, s := range allowedSchemes {
		if strings.EqualFold(u.Scheme, s) {
			return true
		}
	}
	return false
}

var (
	md = goldmark.New(
		goldmark.WithExtensions(extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignNone))),
		goldmark.WithParserOptions(
			parser.WithInlineParsers(util.Prioritized(mentionParser{}, 500)),
		),
		goldmark.WithRendererOptions(
			html.WithHardWraps(),
			renderer.WithNodeRenderers(util.Prioritized(safeRenderer{}, 1)),
		),
	)

	policy = newPolicy()
)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(AllowedElements...)
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^nofollow noopener$`)).OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^mention$`)).OnElements("span")
	p.AllowURLSchemes(allowedSchemes...)
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	return p
}

// Render renders a comment body for one reader: Markdown to sanitised
// HTML, with each @mention that resolves (a key of mentions, lower-cased
// token without the "@") shown as a chip labelled with the mapped text.
// Unresolved mentions stay plain text.
func Render(body string, mentions map[string]string) template.HTML {
	return render(body, &mentionState{labels: mentions})
}

// RenderDetails renders an advisory's Markdown details (no mention chips)
// through the same pipeline and allowlist as comments.
func RenderDetails(details string) template.HTML {
	return render(details, nil)
}

var mentionKey = parser.NewContextKey()

// mentionState travels in the parser context: the labels to render, or the
// tokens to collect.
type mentionState struct {
	labels  map[string]string
	collect bool
	tokens  []string
}

func render(src string, st *mentionState) template.HTML {
	source := []byte(src)
	pc := parser.NewContext()
	if st != nil {
		pc.Set(mentionKey, st)
	}
	doc := md.Parser().Parse(text.NewReader(source), parser.WithContext(pc))
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		// The renderers write to a buffer and never fail; refuse to show
		// a half-rendered body all the same.
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(policy.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitised just now
}

// --- mentions ---

// mentionRE matches a mention after its "@": a full email address, or a
// local part alone.
var mentionRE = regexp.MustCompile(`^@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)`)

// kindMention is the AST kind of a resolved mention.
var kindMention = ast.NewNodeKind("Mention")

type mentionNode struct {
	ast.BaseInline
	label string
}

func (n *mentionNode) Kind() ast.NodeKind { return kindMention }

func (n *mentionNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"Label": n.label}, nil)
}

// mentionParser turns "@token" into a mention when it starts a word.
type mentionParser struct{}

func (mentionParser) Trigger() []byte { return []byte{'@'} }

func (mentionParser) Parse(_ ast.Node, block text.Reader, pc parser.Context) ast.Node {
	st, _ := pc.Get(mentionKey).(*mentionState)
	if st == nil || mentionWordChar(block.PrecendingCharacter()) {
		return nil
	}
	line, _ := block.PeekLine()
	m := mentionRE.FindSubmatchIndex(line)
	if m == nil {
		return nil
	}
	raw := string(line[m[2]:m[3]])
	token := trimToken(raw)
	if token == "" {
		return nil
	}
	key := strings.ToLower(token)
	if st.collect {
		st.tokens = append(st.tokens, key)
		return nil
	}
	label, ok := st.labels[key]
	if !ok {
		return nil
	}
	block.Advance(1 + len(token))
	return &mentionNode{label: label}
}

// mentionWordChar reports whether r, just before an "@", makes it part of
// a word (an email typed without the "@" prefix, a handle@handle, …).
func mentionWordChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("._%+-@/`", r)
}

// trimToken drops the punctuation that ends a sentence rather than the
// token ("@alice." mentions alice).
func trimToken(s string) string {
	return strings.TrimRight(s, ".-%+")
}

// Mentions returns the mention tokens of body, lower-cased, without the
// "@", in order of first appearance and without duplicates. Mentions in
// code are not mentions.
func Mentions(body string) []string {
	st := &mentionState{collect: true}
	md.Parser().Parse(text.NewReader([]byte(body)), parser.WithContext(func() parser.Context {
		pc := parser.NewContext()
		pc.Set(mentionKey, st)
		return pc
	}()))
	seen := map[string]bool{}
	var out []string
	for _, t := range st.tokens {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// --- rendering ---

// safeRenderer overrides the node renderers that could emit markup outside
// the allowlist.
type safeRenderer struct{}

func (safeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(kindMention, renderMention)
}

// renderRawHTML shows inline HTML as the text it is.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*ast.RawHTML)
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			_, _ = w.Write(util.EscapeHTML(seg.Value(source)))
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock shows an HTML block as an escaped paragraph.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.HTMLBlock)
	var raw []byte
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		raw = append(raw, seg.Value(source)...)
	}
	if n.HasClosure() {
		raw = append(raw, n.ClosureLine.Value(source)...)
	}
	_, _ = w.WriteString("<p>")
	_, _ = w.Write(util.EscapeHTML(bytes.TrimRight(raw, "\n")))
	_, _ = w.WriteString("</p>\n")
	return ast.WalkSkipChildren, nil
}

// renderImage shows an image as its alt text: no images.
func renderImage(_ util.BufWriter, _ []byte, _ ast.Node, _ bool) (ast.WalkStatus, error) {
	return ast.WalkContinue, nil
}

func writeAnchorOpen(w util.BufWriter, href []byte) {
	_, _ = w.WriteString(`<a href="`)
	_, _ = w.Write(util.EscapeHTML(href))
	_, _ = w.WriteString(`" rel="` + LinkRel + `">`)
}

// renderLink keeps a link only with a safe destination; otherwise only its
// text is shown. Titles are dropped (not in the allowlist).
func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	dest := util.URLEscape(n.Destination, true)
	ok := SafeURL(string(dest)) && !html.IsDangerousURL(dest)
	if !ok {
		return ast.WalkContinue, nil
	}
	if entering {
		writeAnchorOpen(w, dest)
	} else {
		_, _ = w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	dest := util.URLEscape(n.URL(source), false)
	if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(dest), []byte("mailto:")) {
		dest = append([]byte("mailto:"), dest...)
	}
	label := util.EscapeHTML(n.Label(source))
	if !SafeURL(string(dest)) || html.IsDangerousURL(dest) {
		_, _ = w.Write(label)
		return ast.WalkContinue, nil
	}
	writeAnchorOpen(w, dest)
	_, _ = w.Write(label)
	_, _ = w.WriteString("</a>")
	return ast.WalkContinue, nil
}

func renderMention(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*mentionNode)
		_, _ = w.WriteString(`<span class="` + MentionClass + `">@`)
		_, _ = w.Write(util.EscapeHTML([]byte(n.label)))
		_, _ = w.WriteString(`</span>`)
	}
	return ast.WalkSkipChildren, nil
}
