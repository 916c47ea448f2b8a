// Command refsink is the reference the ingest benchmark compares the hub
// with: it decodes each posted report and inserts it into SQLite with the
// hub's pragmas, one report per transaction, and does nothing else.
package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"

	_ "modernc.org/sqlite"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "listen address")
	path := flag.String("db", "refsink.db", "database file")
	flag.Parse()
	dsn := "file:" + *path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=journal_mode(WAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, body BLOB NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /api/v1/report", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
		if err != nil {
			http.Error(w, `{"error":"read"}`, http.StatusBadRequest)
			return
		}
		var report struct {
			CustomerID string `json:"customer_id"`
		}
		if err := json.Unmarshal(body, &report); err != nil {
			http.Error(w, `{"error":"json"}`, http.StatusBadRequest)
			return
		}
		if _, err := db.Exec(`INSERT INTO reports (customer_id, body) VALUES (?, ?)`, report.CustomerID, body); err != nil {
			http.Error(w, `{"error":"db"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	// The fleet simulator registers customers first; accept and ignore.
	http.HandleFunc("POST /api/v1/admin/customers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"api_key":"refsink"}`))
	})
	log.Printf("refsink listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}
