package comment_test

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/eclipse-csi/advisoryhub/shared/comment"
)

// allowlistViolations parses rendered output as an HTML fragment (as a
// browser would, inside a <div>) and lists every element, attribute or
// node outside the allowlist of requirements §4.4.
func allowlistViolations(out string) []string {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(out), ctx)
	if err != nil {
		return []string{"unparseable: " + err.Error()}
	}
	var bad []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			if !slices.Contains(comment.AllowedElements, n.Data) || n.Namespace != "" {
				bad = append(bad, "element <"+n.Data+">")
			}
			for _, a := range n.Attr {
				if !allowedAttr(n.Data, a) {
					bad = append(bad, fmt.Sprintf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data))
				}
			}
			if n.Data == "span" && attr(n, "class") != comment.MentionClass {
				bad = append(bad, "span without class=mention")
			}
			if n.Data == "a" && attr(n, "rel") != comment.LinkRel {
				bad = append(bad, fmt.Sprintf("link without rel=%q", comment.LinkRel))
			}
		case html.CommentNode, html.DoctypeNode:
			bad = append(bad, "markup node "+n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return bad
}

func allowedAttr(el string, a html.Attribute) bool {
	if a.Namespace != "" {
		return false
	}
	switch {
	case el == "a" && a.Key == "href":
		// Checked independently of the renderer's own SafeURL: the value
		// (entities already decoded by the parser) must parse, and be
		// relative or http(s)/mailto. A browser strips tabs and newlines
		// inside a URL, so those never pass.
		if strings.ContainsAny(a.Val, "\t\r\n\x00") {
			return false
		}
		u, err := url.Parse(a.Val)
		if err != nil {
			return false
		}
		switch strings.ToLower(u.Scheme) {
		case "", "http", "https", "mailto":
			return !strings.Contains(strings.SplitN(a.Val, "/", 2)[0], ":") || u.Scheme != ""
		}
		return false
	case el == "a" && a.Key == "rel":
		return a.Val == comment.LinkRel
	case el == "span" && a.Key == "class":
		return a.Val == comment.MentionClass
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// xssVectors reads testdata/xss-vectors.txt: records separated by "%%"
// lines, after a comment header.
func xssVectors(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/xss-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "\n%%\n")
	var out []string
	for _, p := range parts[1:] { // parts[0] is the header
		if p = strings.TrimSuffix(p, "\n"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// The acceptance criterion of issue 4: a corpus of known XSS vectors goes
// through comment rendering (with mention chips in play) and advisory
// details rendering, and nothing outside the allowlist comes out.
func TestXSSCorpus(t *testing.T) {
	vectors := xssVectors(t)
	if len(vectors) < 100 {
		t.Fatalf("corpus has %d vectors, want at least 100", len(vectors))
	}
	mentions := map[string]string{"alice": `Alice "><script>alert(1)</script>`, "admin": "Admin"}
	for i, v := range vectors {
		for _, r := range []struct {
			name string
			out  string
		}{
			{"comment", string(comment.Render(v, mentions))},
			{"details", string(comment.RenderDetails(v))},
		} {
			if bad := allowlistViolations(r.out); len(bad) > 0 {
				t.Errorf("vector %d (%s):\n%s\nrendered:\n%s\nviolations: %v", i+1, r.name, v, r.out, bad)
			}
			lower := strings.ToLower(r.out)
			for _, needle := range []string{"<script", "<img", "<svg", "<iframe", "<style", "<object", "<embed"} {
				if strings.Contains(lower, needle) {
					t.Errorf("vector %d (%s): output contains %q:\n%s", i+1, r.name, needle, r.out)
				}
			}
		}
	}
}

func TestRender(t *testing.T) {
	mentions := map[string]string{"alice": "Alice", "bob@example.org": "b•••@example.org"}
	cases := []struct {
		name, in, want string
	}{
		{"paragraph", "hello *world*", "<p>hello <em>world</em></p>\n"},
		{"raw inline html is text", "a <b>bold</b>", "<p>a &lt;b&gt;bold&lt;/b&gt;</p>\n"},
		{"raw html block is text", "<div onclick=x>hi</div>", "<p>&lt;div onclick=x&gt;hi&lt;/div&gt;</p>\n"},
		{"link gets rel", "[x](https://example.org)", `<p><a href="https://example.org" rel="nofollow noopener">x</a></p>` + "\n"},
		{"link title dropped", `[x](https://example.org "t")`, `<p><a href="https://example.org" rel="nofollow noopener">x</a></p>` + "\n"},
		{"relative link kept", "[x](/advisories/)", `<p><a href="/advisories/" rel="nofollow noopener">x</a></p>` + "\n"},
		{"javascript link becomes text", "[x](javascript:alert(1))", "<p>x</p>\n"},
		{"image becomes alt text", "![alt text](https://example.org/a.png)", "<p>alt text</p>\n"},
		{"autolink", "<https://example.org>", `<p><a href="https://example.org" rel="nofollow noopener">https://example.org</a></p>` + "\n"},
		{"email autolink", "<a@example.org>", `<p><a href="mailto:a@example.org" rel="nofollow noopener">a@example.org</a></p>` + "\n"},
		{"mention local part", "hi @alice.", `<p>hi <span class="mention">@Alice</span>.</p>` + "\n"},
		{"mention email, case-insensitive", "cc @Bob@Example.org", `<p>cc <span class="mention">@b•••@example.org</span></p>` + "\n"},
		{"unresolved mention stays text", "hi @carol", "<p>hi @carol</p>\n"},
		{"email without @ prefix is no mention", "mail alice@example.org", "<p>mail alice@example.org</p>\n"},
		{"mention in code is no mention", "`@alice`", "<p><code>@alice</code></p>\n"},
		{"hard wrap", "a\nb", "<p>a<br>\nb</p>\n"},
		{"table", "|a|b|\n|-|-|\n|1|2|", "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(comment.Render(tc.in, mentions))
			if got != tc.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if bad := allowlistViolations(got); len(bad) > 0 {
				t.Errorf("violations: %v", bad)
			}
		})
	}
}

func TestRenderDetailsHasNoMentionChips(t *testing.T) {
	got := string(comment.RenderDetails("thanks @alice"))
	if got != "<p>thanks @alice</p>\n" {
		t.Errorf("got %q", got)
	}
}

func TestMentions(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"@alice and @bob@example.org", []string{"alice", "bob@example.org"}},
		{"@Alice @alice @ALICE.", []string{"alice"}},
		{"mail alice@example.org", nil},
		{"`@alice` and\n\n    @bob\n", nil},
		{"(@carol), @dave-", []string{"carol", "dave"}},
		{"@", nil},
		{"@...", nil},
		{"[@erin](https://example.org)", []string{"erin"}},
		{"# Title @frank\n\n- item @grace", []string{"frank", "grace"}},
	}
	for _, tc := range cases {
		got := comment.Mentions(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Mentions(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://example.org/x": true, "http://x": true, "mailto:a@b": true, "/rel": true, "rel/x": true,
		"#frag": true, "javascript:alert(1)": false, "JavaScript:x": false, "data:text/html,x": false,
		"vbscript:x": false, "file:///etc/passwd": false, "java\nscript:x": false, "x:y/z": false,
	} {
		if got := comment.SafeURL(u); got != want {
			t.Errorf("SafeURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// FuzzRender: no input makes the renderer panic, and whatever comes out
// stays inside the allowlist.
func FuzzRender(f *testing.F) {
	for _, v := range xssVectors(f) {
		f.Add(v)
	}
	f.Add("@alice @bob@example.org `@x` [a](b) ![c](d) <e@f.g>")
	mentions := map[string]string{"alice": "<Alice>", "bob@example.org": "b•••@example.org"}
	f.Fuzz(func(t *testing.T, in string) {
		for _, out := range []string{string(comment.Render(in, mentions)), string(comment.RenderDetails(in))} {
			if bad := allowlistViolations(out); len(bad) > 0 {
				t.Fatalf("input %q\noutput %q\nviolations %v", in, out, bad)
			}
		}
		_ = comment.Mentions(in)
	})
}
