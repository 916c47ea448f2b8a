package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/httpx"
)

func TestStatus(t *testing.T) {
	for err, want := range map[error]int{
		hub.Errorf(hub.EINVALID, "x"):                              400,
		hub.Errorf(hub.EUNAUTHORIZED, "x"):                         401,
		hub.Errorf(hub.EFORBIDDEN, "x"):                            403,
		hub.Errorf(hub.ENOTFOUND, "x"):                             404,
		hub.Errorf(hub.ECONFLICT, "x"):                             409,
		hub.Errorf(hub.ETOOLARGE, "x"):                             413,
		hub.Errorf(hub.ETOOMANY, "x"):                              429,
		hub.Errorf(hub.EINTERNAL, "x"):                             500,
		hub.Errorf(hub.EUPSTREAM, "x"):                             502,
		hub.Unavailable(errors.New("disk"), "x"):                   503,
		errors.New("plain"):                                        500,
		hub.Errorf("made-up", "x"):                                 500,
		errors.Join(errors.New("a"), hub.Errorf(hub.EINVALID, "")): 400,
	} {
		if got := httpx.Status(err); got != want {
			t.Errorf("Status(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestRecorder(t *testing.T) {
	w := httptest.NewRecorder()
	r := &httpx.Recorder{ResponseWriter: w}
	_, _ = r.Write([]byte("hello"))
	r.WriteHeader(http.StatusTeapot) // too late: the first status stands
	if r.Status != http.StatusOK || r.Bytes != 5 || w.Body.String() != "hello" {
		t.Fatalf("recorded %d %d", r.Status, r.Bytes)
	}
	if http.NewResponseController(r).Flush() != nil {
		t.Error("the controller cannot reach the underlying writer")
	}
}
