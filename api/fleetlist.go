package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	hub "github.com/felhom/hub"
)

var errUnencodable = errors.New("a fleet row could not be encoded")

// writeFleet streams the fleet list: the same bytes writeJSON makes of
// {"customers": []customerView, "latest_controller_version": latest},
// written row by row from the listing's stored JSON instead of encoding
// every customer into one buffer. counts, when not nil, replace the rows'
// own event counts (a window the listing does not reach back to).
func (s *Server) writeFleet(w http.ResponseWriter, fl *hub.Fleet, now time.Time, counts map[string]hub.EventCounts, latest string) {
	latestJSON, err := json.Marshal(latest)
	for _, row := range fl.Rows {
		if row.JSON == nil {
			err = errUnencodable
		}
	}
	if err != nil {
		// What writeJSON answers for a value it cannot encode.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"internal error"}` + "\n"))
		return
	}
	since := now.Add(-recentEventsPeriod)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString(`{"customers":[`)
	var tail []byte
	for i, row := range fl.Rows {
		c := row.Customer
		var ec hub.EventCounts
		if counts != nil {
			ec = counts[c.ID]
		} else {
			ec = row.EventCounts(since)
		}
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		// The customer's own fields, then customerView's in their order.
		_, _ = bw.Write(row.JSON[:len(row.JSON)-1])
		tail = append(tail[:0], `,"status":"`...)
		tail = append(tail, c.Status(now, s.Thresholds)...)
		tail = append(tail, `","errors_24h":`...)
		tail = strconv.AppendInt(tail, int64(ec.Errors), 10)
		tail = append(tail, `,"warnings_24h":`...)
		tail = strconv.AppendInt(tail, int64(ec.Warnings), 10)
		tail = append(tail, `,"update_available":`...)
		tail = strconv.AppendBool(tail, c.Latest != nil && hub.UpdateAvailable(c.Latest.ControllerVersion, latest))
		tail = append(tail, '}')
		_, _ = bw.Write(tail)
	}
	_, _ = bw.WriteString(`],"latest_controller_version":`)
	_, _ = bw.Write(latestJSON)
	_, _ = bw.WriteString("}\n")
	_ = bw.Flush()
}
