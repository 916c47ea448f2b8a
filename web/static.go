package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var staticFS embed.FS

// staticFiles are the embedded assets with a content hash each, so that a
// page can ask for /static/app.css?v=<hash> and the browser may cache it
// for good: a new build has a new hash.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	body []byte
	hash string
}

// loadStatic reads every embedded asset once at start.
func loadStatic() (*staticFiles, error) {
	sf := &staticFiles{files: map[string]staticFile{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		sf.files[p[len("static/"):]] = staticFile{body: body, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load static files: %w", err)
	}
	return sf, nil
}

// url returns the versioned URL of an asset; a name that is not embedded
// is an error, so a typo in a template fails every render of its page.
func (sf *staticFiles) url(name string) (string, error) {
	f, ok := sf.files[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.hash, nil
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, ok := s.static.files[name]
	if !ok || path.Ext(name) == ".LICENSE" {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == f.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+f.hash+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
