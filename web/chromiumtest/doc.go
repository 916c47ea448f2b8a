// Package chromiumtest holds the dashboard's browser tests. They drive
// Debian's chromium (apt-get install chromium; /usr/bin/chromium) with
// chromedp, share one headless browser per test binary, and skip with a
// message when the browser is not installed.
//
// HUB_SCREENSHOTS=1 go test ./web/chromiumtest saves screenshots of the
// pages to docs/screenshots.
package chromiumtest
