package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// editor edits a tree held in an object store without a worktree: only
// the directories along changed paths are loaded, and only they get new
// tree objects. It also serves the edited tree as an fs.FS.
type editor struct {
	s     storer.EncodedObjectStorer
	root  *dirNode
	added []plumbing.Hash // objects created by the edit (blobs, then trees)
	// fetch, when set, brings missing blobs into s (a partial clone holds
	// the trees only); reads ask for a whole directory's blobs at once.
	fetch func(missing []plumbing.Hash) error
}

// dirNode is one directory. entries is loaded lazily from the original
// tree; children holds the subdirectories visited so far.
type dirNode struct {
	orig     plumbing.Hash // the original tree, zero for a new directory
	loaded   bool
	entries  map[string]object.TreeEntry
	children map[string]*dirNode
	dirty    bool
}

func newEditor(s storer.EncodedObjectStorer, root plumbing.Hash) *editor {
	return &editor{s: s, root: &dirNode{orig: root}}
}

func (e *editor) load(n *dirNode) error {
	if n.loaded {
		return nil
	}
	n.entries = map[string]object.TreeEntry{}
	n.children = map[string]*dirNode{}
	n.loaded = true
	if n.orig.IsZero() {
		return nil
	}
	t, err := object.GetTree(e.s, n.orig)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", n.orig, err)
	}
	for _, en := range t.Entries {
		n.entries[en.Name] = en
	}
	return nil
}

// dir returns the node of directory p ("" is the root). With create, the
// missing directories are made; otherwise a missing one gives nil. A path
// element that exists but is not a directory is an error.
func (e *editor) dir(p string, create bool) (*dirNode, error) {
	n := e.root
	if err := e.load(n); err != nil {
		return nil, err
	}
	if p == "" {
		return n, nil
	}
	for _, el := range strings.Split(p, "/") {
		child, ok := n.children[el]
		if !ok {
			en, exists := n.entries[el]
			switch {
			case !exists && !create:
				return nil, nil
			case !exists:
				child = &dirNode{}
			case en.Mode != filemode.Dir:
				return nil, &Error{Op: "write", Kind: ErrPath,
					Detail: fmt.Sprintf("%q: %q is a %s, not a directory", p, el, modeName(en.Mode))}
			default:
				child = &dirNode{orig: en.Hash}
			}
			n.children[el] = child
		}
		if err := e.load(child); err != nil {
			return nil, err
		}
		n = child
	}
	return n, nil
}

// write stores content at p and reports whether anything changed.
func (e *editor) write(p string, content []byte) (bool, error) {
	parent, name := splitPath(p)
	n, err := e.dir(parent, true)
	if err != nil {
		return false, err
	}
	h := plumbing.ComputeHash(plumbing.BlobObject, content)
	if en, ok := n.entries[name]; ok {
		switch {
		case en.Mode == filemode.Dir || n.children[name] != nil:
			return false, &Error{Op: "write", Kind: ErrPath, Detail: fmt.Sprintf("%q is a directory", p)}
		case en.Mode == filemode.Symlink || en.Mode == filemode.Submodule:
			return false, &Error{Op: "write", Kind: ErrPath, Detail: fmt.Sprintf("%q is a %s", p, modeName(en.Mode))}
		case en.Hash == h && en.Mode == filemode.Regular:
			return false, nil
		}
	}
	if _, ok := n.children[name]; ok {
		return false, &Error{Op: "write", Kind: ErrPath, Detail: fmt.Sprintf("%q is a directory", p)}
	}
	if err := e.s.HasEncodedObject(h); err != nil {
		obj := e.s.NewEncodedObject()
		obj.SetType(plumbing.BlobObject)
		obj.SetSize(int64(len(content)))
		w, err := obj.Writer()
		if err != nil {
			return false, err
		}
		if _, err := w.Write(content); err != nil {
			return false, err
		}
		if err := w.Close(); err != nil {
			return false, err
		}
		if _, err := e.s.SetEncodedObject(obj); err != nil {
			return false, err
		}
	}
	e.added = append(e.added, h)
	n.entries[name] = object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h}
	e.markDirty(parent)
	return true, nil
}

func (e *editor) markDirty(p string) {
	n := e.root
	n.dirty = true
	if p == "" {
		return
	}
	for _, el := range strings.Split(p, "/") {
		n = n.children[el]
		n.dirty = true
	}
}

// commitTree writes the tree objects of every dirty directory and returns
// the root tree's hash.
func (e *editor) commitTree() (plumbing.Hash, error) {
	if err := e.load(e.root); err != nil {
		return plumbing.ZeroHash, err
	}
	return e.writeTree(e.root)
}

func (e *editor) writeTree(n *dirNode) (plumbing.Hash, error) {
	if !n.dirty {
		return n.orig, nil
	}
	for name, child := range n.children {
		if !child.dirty {
			continue
		}
		h, err := e.writeTree(child)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		n.entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	t := &object.Tree{Entries: make([]object.TreeEntry, 0, len(n.entries))}
	for _, en := range n.entries {
		t.Entries = append(t.Entries, en)
	}
	slices.SortFunc(t.Entries, compareEntries)
	obj := e.s.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	h := obj.Hash()
	if h == n.orig {
		return h, nil
	}
	if _, err := e.s.SetEncodedObject(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	e.added = append(e.added, h)
	return h, nil
}

// compareEntries orders tree entries as git does: by name, a directory
// compared as if its name ended in "/".
func compareEntries(a, b object.TreeEntry) int {
	an, bn := a.Name, b.Name
	if a.Mode == filemode.Dir {
		an += "/"
	}
	if b.Mode == filemode.Dir {
		bn += "/"
	}
	return strings.Compare(an, bn)
}

func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

func modeName(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "directory"
	case filemode.Symlink:
		return "symbolic link"
	case filemode.Submodule:
		return "submodule"
	}
	return "file"
}

// lookup returns the entry at p ("" is the root directory).
func (e *editor) lookup(p string) (object.TreeEntry, *dirNode, error) {
	if p == "." || p == "" {
		n, err := e.dir("", false)
		return object.TreeEntry{Mode: filemode.Dir}, n, err
	}
	parent, name := splitPath(p)
	n, err := e.dir(parent, false)
	if err != nil || n == nil {
		return object.TreeEntry{}, nil, fs.ErrNotExist
	}
	if child, ok := n.children[name]; ok {
		return object.TreeEntry{Name: name, Mode: filemode.Dir}, child, nil
	}
	en, ok := n.entries[name]
	if !ok {
		return object.TreeEntry{}, nil, fs.ErrNotExist
	}
	if en.Mode == filemode.Dir {
		d, err := e.dir(p, false)
		return en, d, err
	}
	return en, nil, nil
}

// FS returns the edited tree as a read-only fs.FS (files written so far
// included). Symbolic links and submodules are listed but not readable.
func (e *editor) FS() fs.FS { return treeFS{e} }

type treeFS struct{ e *editor }

func (f treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	en, d, err := f.e.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if d != nil {
		entries, err := f.readDir(name, d)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &openDir{info: f.info(name, en, 0), entries: entries}, nil
	}
	b, err := f.blob(name, en)
	if err != nil {
		return nil, err
	}
	return &openFile{info: f.info(name, en, int64(len(b))), r: bytes.NewReader(b)}, nil
}

func (f treeFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	en, d, err := f.e.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if d != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return f.blob(name, en)
}

func (f treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	_, d, err := f.e.lookup(name)
	if err == nil && d == nil {
		err = errors.New("not a directory")
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return f.readDir(name, d)
}

func (f treeFS) readDir(name string, d *dirNode) ([]fs.DirEntry, error) {
	if err := f.e.load(d); err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(d.entries)+len(d.children))
	for n, en := range d.entries {
		if _, ok := d.children[n]; ok {
			continue
		}
		out = append(out, dirEntry{f: f, path: path.Join(name, n), en: en})
	}
	for n := range d.children {
		out = append(out, dirEntry{f: f, path: path.Join(name, n), en: object.TreeEntry{Name: n, Mode: filemode.Dir}})
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (f treeFS) blob(name string, en object.TreeEntry) ([]byte, error) {
	if en.Mode != filemode.Regular && en.Mode != filemode.Executable && en.Mode != filemode.Deprecated {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%s is not readable", modeName(en.Mode))}
	}
	if err := f.e.ensure(name, en.Hash); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	obj, err := f.e.s.EncodedObject(plumbing.BlobObject, en.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	defer r.Close()
	b := make([]byte, 0, obj.Size())
	buf := bytes.NewBuffer(b)
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return buf.Bytes(), nil
}

func (f treeFS) info(name string, en object.TreeEntry, size int64) fileInfo {
	_, base := splitPath(name)
	if name == "." || name == "" {
		base = "."
	}
	mode := fs.FileMode(0o444)
	switch en.Mode {
	case filemode.Dir:
		mode = fs.ModeDir | 0o555
	case filemode.Executable:
		mode = 0o555
	case filemode.Symlink:
		mode = fs.ModeSymlink | 0o777
	case filemode.Submodule:
		mode = fs.ModeIrregular
	}
	return fileInfo{name: base, size: size, mode: mode}
}

// ensure makes the blob h of the file at p present in the store: when it
// is missing, the missing blobs of p's whole directory are fetched at once.
func (e *editor) ensure(p string, h plumbing.Hash) error {
	if e.fetch == nil || e.s.HasEncodedObject(h) == nil {
		return nil
	}
	dir, _ := splitPath(p)
	n, err := e.dir(dir, false)
	if err != nil {
		return err
	}
	missing := []plumbing.Hash{h}
	if n != nil {
		for _, en := range n.entries {
			if en.Mode != filemode.Dir && en.Mode != filemode.Submodule && en.Hash != h && e.s.HasEncodedObject(en.Hash) != nil {
				missing = append(missing, en.Hash)
			}
		}
	}
	return e.fetch(missing)
}

// dirEntry is a directory entry whose size is looked up (and the blob
// fetched, in a partial clone) only when Info is called.
type dirEntry struct {
	f    treeFS
	path string
	en   object.TreeEntry
}

func (d dirEntry) Name() string               { return d.en.Name }
func (d dirEntry) IsDir() bool                { return d.en.Mode == filemode.Dir }
func (d dirEntry) Type() fs.FileMode          { return d.f.info(d.path, d.en, 0).Mode().Type() }
func (d dirEntry) String() string             { return fs.FormatDirEntry(d) }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.f.stat(d.path, d.en) }

func (f treeFS) stat(name string, en object.TreeEntry) (fs.FileInfo, error) {
	if !en.Mode.IsFile() {
		return f.info(name, en, 0), nil
	}
	if err := f.e.ensure(name, en.Hash); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	size, err := f.e.s.EncodedObjectSize(en.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return f.info(name, en, size), nil
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

type openFile struct {
	info fileInfo
	r    *bytes.Reader
}

func (f *openFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *openFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *openFile) Close() error               { return nil }

type openDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *openDir) Close() error { return nil }

func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
