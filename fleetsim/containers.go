package fleetsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// service is one container an app brings: a compose service.
type service struct {
	name  string
	image string // repository; the tag comes from tag with the node's patch level
	tag   string // a format with one %d for the patch level, or a fixed tag
	// health is the healthcheck's probe output, "" when the image has none.
	health string
	port   int // container port published on the host's loopback, 0 for none
	mounts []string
	mem    float64 // typical memory use in MiB
}

// app is a felhom app: a compose project of services.
type app struct {
	name     string
	services []service
}

// infra runs on every node; the apps are a node's choice.
var infra = app{"felhom", []service{
	{"controller", "gitea.dooplex.hu/admin/felhom-controller", "v1.4.%d", "ok", 8800, []string{"/var/run/docker.sock:/var/run/docker.sock", "/srv/felhom:/data"}, 48},
	{"traefik", "traefik", "v3.1.%d", "OK", 443, []string{"/srv/felhom/traefik:/etc/traefik", "/var/run/docker.sock:/var/run/docker.sock:ro"}, 64},
	{"cloudflared", "cloudflare/cloudflared", "2024.11.%d", "", 0, []string{"/srv/felhom/cloudflared:/etc/cloudflared"}, 24},
	{"autoheal", "willfarrell/autoheal", "1.2.%d", "", 0, []string{"/var/run/docker.sock:/var/run/docker.sock"}, 8},
}}

// apps a simulated node may run.
var apps = []app{
	{"nextcloud", []service{
		{"app", "nextcloud", "29.0.%d-apache", "HTTP/1.1 302 Found", 80, []string{"/mnt/hdd1/nextcloud/html:/var/www/html", "/mnt/hdd1/nextcloud/data:/var/www/html/data"}, 420},
		{"db", "mariadb", "10.11.%d", "healthcheck.sh --connect --innodb_initialized: OK", 0, []string{"/srv/stacks/nextcloud/db:/var/lib/mysql"}, 310},
		{"redis", "redis", "7.2.%d-alpine", "PONG", 0, []string{"/srv/stacks/nextcloud/redis:/data"}, 18},
		{"cron", "nextcloud", "29.0.%d-apache", "", 0, []string{"/mnt/hdd1/nextcloud/html:/var/www/html"}, 40},
	}},
	{"immich", []service{
		{"server", "ghcr.io/immich-app/immich-server", "v1.119.%d", "HTTP/1.1 200 OK", 2283, []string{"/mnt/hdd1/immich/library:/usr/src/app/upload", "/etc/localtime:/etc/localtime:ro"}, 380},
		{"machine-learning", "ghcr.io/immich-app/immich-machine-learning", "v1.119.%d", "HTTP/1.1 200 OK", 0, []string{"/srv/stacks/immich/model-cache:/cache"}, 900},
		{"redis", "docker.io/redis", "6.2-alpine", "PONG", 0, nil, 12},
		{"database", "docker.io/tensorchord/pgvecto-rs", "pg14-v0.2.%d", "/var/run/postgresql:5432 - accepting connections", 0, []string{"/srv/stacks/immich/postgres:/var/lib/postgresql/data"}, 260},
	}},
	{"vaultwarden", []service{
		{"server", "vaultwarden/server", "1.32.%d", "HTTP/1.1 200 OK", 80, []string{"/srv/stacks/vaultwarden/data:/data"}, 22},
	}},
	{"jellyfin", []service{
		{"server", "jellyfin/jellyfin", "10.9.%d", "Healthy", 8096, []string{"/srv/stacks/jellyfin/config:/config", "/srv/stacks/jellyfin/cache:/cache", "/mnt/hdd1/media:/media:ro"}, 350},
	}},
	{"paperless", []service{
		{"webserver", "ghcr.io/paperless-ngx/paperless-ngx", "2.12.%d", "HTTP/1.1 200 OK", 8000, []string{"/srv/stacks/paperless/data:/usr/src/paperless/data", "/mnt/hdd1/paperless/media:/usr/src/paperless/media", "/mnt/hdd1/paperless/consume:/usr/src/paperless/consume"}, 520},
		{"db", "docker.io/library/postgres", "16.%d", "/var/run/postgresql:5432 - accepting connections", 0, []string{"/srv/stacks/paperless/pgdata:/var/lib/postgresql/data"}, 90},
		{"broker", "docker.io/library/redis", "7.%d", "PONG", 0, []string{"/srv/stacks/paperless/redisdata:/data"}, 10},
		{"tika", "docker.io/apache/tika", "2.9.%d.0", "", 0, nil, 280},
		{"gotenberg", "docker.io/gotenberg/gotenberg", "8.%d", "", 0, nil, 120},
	}},
	{"homeassistant", []service{
		{"core", "ghcr.io/home-assistant/home-assistant", "2024.11.%d", "", 8123, []string{"/srv/stacks/homeassistant/config:/config", "/etc/localtime:/etc/localtime:ro", "/run/dbus:/run/dbus:ro"}, 410},
		{"mqtt", "eclipse-mosquitto", "2.0.%d", "", 1883, []string{"/srv/stacks/homeassistant/mosquitto:/mosquitto"}, 6},
		{"zigbee2mqtt", "koenkk/zigbee2mqtt", "1.41.%d", "", 8080, []string{"/srv/stacks/homeassistant/zigbee2mqtt:/app/data", "/run/udev:/run/udev:ro"}, 130},
	}},
	{"gitea", []service{
		{"server", "gitea/gitea", "1.22.%d", "", 3000, []string{"/srv/stacks/gitea/data:/data", "/etc/timezone:/etc/timezone:ro"}, 160},
		{"db", "postgres", "14.%d", "/var/run/postgresql:5432 - accepting connections", 0, []string{"/srv/stacks/gitea/postgres:/var/lib/postgresql/data"}, 70},
	}},
	{"photoprism", []service{
		{"app", "photoprism/photoprism", "240915.%d", "", 2342, []string{"/mnt/hdd1/pictures:/photoprism/originals", "/srv/stacks/photoprism/storage:/photoprism/storage"}, 700},
		{"mariadb", "mariadb", "11.%d", "healthcheck.sh --connect --innodb_initialized: OK", 0, []string{"/srv/stacks/photoprism/database:/var/lib/mysql"}, 240},
	}},
	{"uptime-kuma", []service{
		{"app", "louislam/uptime-kuma", "1.23.%d", "", 3001, []string{"/srv/stacks/uptime-kuma/data:/app/data"}, 110},
	}},
	{"adguard", []service{
		{"home", "adguard/adguardhome", "v0.107.%d", "", 3000, []string{"/srv/stacks/adguard/work:/opt/adguardhome/work", "/srv/stacks/adguard/conf:/opt/adguardhome/conf"}, 60},
	}},
	{"syncthing", []service{
		{"app", "syncthing/syncthing", "1.27.%d", "OK", 8384, []string{"/mnt/hdd1/syncthing:/var/syncthing"}, 90},
	}},
	{"wordpress", []service{
		{"app", "wordpress", "6.6.%d-apache", "", 80, []string{"/srv/stacks/wordpress/html:/var/www/html"}, 140},
		{"db", "mysql", "8.0.%d", "mysqld is alive", 0, []string{"/srv/stacks/wordpress/db:/var/lib/mysql"}, 380},
	}},
	{"mailu", []service{
		{"front", "ghcr.io/mailu/nginx", "2024.06.%d", "OK", 443, []string{"/srv/stacks/mailu/certs:/certs", "/srv/stacks/mailu/overrides/nginx:/overrides:ro"}, 30},
		{"admin", "ghcr.io/mailu/admin", "2024.06.%d", "HTTP/1.1 200 OK", 0, []string{"/srv/stacks/mailu/data:/data", "/srv/stacks/mailu/dkim:/dkim"}, 110},
		{"imap", "ghcr.io/mailu/dovecot", "2024.06.%d", "OK", 0, []string{"/mnt/hdd1/mailu/mail:/mail", "/srv/stacks/mailu/overrides/dovecot:/overrides:ro"}, 60},
		{"smtp", "ghcr.io/mailu/postfix", "2024.06.%d", "OK", 0, []string{"/srv/stacks/mailu/mailqueue:/queue", "/srv/stacks/mailu/overrides/postfix:/overrides:ro"}, 40},
		{"antispam", "ghcr.io/mailu/rspamd", "2024.06.%d", "OK", 0, []string{"/srv/stacks/mailu/filter:/var/lib/rspamd", "/srv/stacks/mailu/overrides/rspamd:/overrides:ro"}, 170},
		{"webmail", "ghcr.io/mailu/webmail", "2024.06.%d", "HTTP/1.1 200 OK", 0, []string{"/srv/stacks/mailu/webmail:/data"}, 50},
		{"redis", "redis", "alpine", "PONG", 0, []string{"/srv/stacks/mailu/redis:/data"}, 9},
	}},
	{"freshrss", []service{
		{"app", "freshrss/freshrss", "1.24.%d", "", 80, []string{"/srv/stacks/freshrss/data:/var/www/FreshRSS/data", "/srv/stacks/freshrss/extensions:/var/www/FreshRSS/extensions"}, 45},
	}},
	{"navidrome", []service{
		{"app", "deluan/navidrome", "0.53.%d", "", 4533, []string{"/srv/stacks/navidrome/data:/data", "/mnt/hdd1/music:/music:ro"}, 70},
	}},
}

// simContainer is the state of one simulated container between reports.
type simContainer struct {
	svc      *service
	appName  string
	project  string
	patch    int
	id       string
	created  time.Time
	started  time.Time
	restarts int
	cpu      float64
	memMiB   float64
	starting bool // restarted since the last report: health "starting"
}

// newContainer creates a container of svc for a node, created at created.
func newContainer(rng *rand.Rand, appName string, svc *service, patch int, created time.Time) *simContainer {
	c := &simContainer{svc: svc, appName: appName, project: appName, patch: patch, created: created, started: created}
	c.recreate(rng, created)
	c.memMiB = svc.mem * (0.7 + 0.6*rng.Float64())
	c.cpu = rng.Float64() * 3
	return c
}

// recreate gives the container a new id, as an update or a compose up does.
func (c *simContainer) recreate(rng *rand.Rand, at time.Time) {
	var id [32]byte
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	c.id = hex.EncodeToString(id[:])
	c.created, c.started, c.restarts = at, at, 0
}

func (c *simContainer) name() string {
	if c.appName == infra.name {
		return "felhom-" + c.svc.name
	}
	return c.appName + "-" + c.svc.name + "-1"
}

func (c *simContainer) tag() string {
	if !strings.Contains(c.svc.tag, "%d") {
		return c.svc.tag
	}
	return fmt.Sprintf(c.svc.tag, c.patch)
}

// imageDigest is the same for an image and tag on every node, as a registry's is.
func imageDigest(image, tag string) string {
	sum := sha256.Sum256([]byte(image + ":" + tag))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// tick advances the container by d: its load moves, and now and then it
// restarts.
func (c *simContainer) tick(rng *rand.Rand, now time.Time) {
	c.cpu = clamp(c.cpu+rng.NormFloat64()*0.8, 0, 95)
	c.memMiB = clamp(c.memMiB+rng.NormFloat64()*c.svc.mem*0.03, c.svc.mem*0.2, c.svc.mem*3)
	c.starting = false
	if rng.Float64() < 0.002 {
		c.restarts++
		c.started = now
		c.starting = c.svc.health != ""
	}
}

// Report shapes of a container, in the order docker inspect shows them.
type (
	containerPort struct {
		HostIP        string `json:"host_ip"`
		HostPort      int    `json:"host_port"`
		ContainerPort int    `json:"container_port"`
		Protocol      string `json:"protocol"`
	}
	containerMount struct {
		Type        string `json:"type"`
		Source      string `json:"source"`
		Destination string `json:"destination"`
		Mode        string `json:"mode"`
		RW          bool   `json:"rw"`
	}
	containerHealth struct {
		Status        string `json:"status"`
		FailingStreak int    `json:"failing_streak"`
		LastCheckAt   string `json:"last_check_at"`
		LastExitCode  int    `json:"last_exit_code"`
		LastOutput    string `json:"last_output"`
	}
	containerReport struct {
		Name          string            `json:"name"`
		ID            string            `json:"id"`
		App           string            `json:"app"`
		Service       string            `json:"service"`
		Image         string            `json:"image"`
		ImageDigest   string            `json:"image_digest"`
		State         string            `json:"state"`
		Status        string            `json:"status"`
		Health        string            `json:"health"`
		HealthDetail  *containerHealth  `json:"health_detail,omitempty"`
		RestartCount  int               `json:"restart_count"`
		RestartPolicy string            `json:"restart_policy"`
		CreatedAt     string            `json:"created_at"`
		StartedAt     string            `json:"started_at"`
		CPUPercent    float64           `json:"cpu_percent"`
		MemUsageBytes int64             `json:"mem_usage_bytes"`
		MemLimitBytes int64             `json:"mem_limit_bytes"`
		Ports         []containerPort   `json:"ports"`
		Mounts        []containerMount  `json:"mounts"`
		Networks      []string          `json:"networks"`
		Labels        map[string]string `json:"labels"`
	}
)

// report renders the container as the controller reports it at now.
func (c *simContainer) report(now time.Time, memLimit float64, seq int) containerReport {
	image := c.svc.image + ":" + c.tag()
	r := containerReport{
		Name: c.name(), ID: c.id, App: c.appName, Service: c.svc.name,
		Image: image, ImageDigest: imageDigest(c.svc.image, c.tag()),
		State: "running", RestartCount: c.restarts, RestartPolicy: "unless-stopped",
		CreatedAt:     c.created.UTC().Format(time.RFC3339Nano),
		StartedAt:     c.started.UTC().Format(time.RFC3339Nano),
		CPUPercent:    round1(c.cpu),
		MemUsageBytes: int64(c.memMiB * (1 << 20)),
		MemLimitBytes: int64(memLimit),
		Ports:         []containerPort{},
		Networks:      []string{c.project + "_default"},
		Labels: map[string]string{
			"com.docker.compose.project":          c.project,
			"com.docker.compose.service":          c.svc.name,
			"com.docker.compose.version":          "2.29.7",
			"com.docker.compose.config-hash":      imageDigest(c.project, c.svc.name)[7:71],
			"com.docker.compose.project.dir":      "/srv/stacks/" + c.project,
			"com.docker.compose.container-number": "1",
			"felhom.app":                          c.appName,
			"felhom.managed":                      "true",
		},
	}
	up := now.Sub(c.started)
	r.Status = "Up " + humanDuration(up)
	if c.svc.health != "" {
		r.Health = "healthy"
		if c.starting {
			r.Health = "starting"
		}
		r.Status += " (" + r.Health + ")"
		r.HealthDetail = &containerHealth{
			Status:      r.Health,
			LastCheckAt: now.Add(-time.Duration(5+seq%25) * time.Second).UTC().Format(time.RFC3339Nano),
			LastOutput:  c.svc.health,
		}
	}
	if c.svc.port != 0 {
		r.Ports = append(r.Ports, containerPort{"127.0.0.1", 20000 + (seq*37+c.svc.port)%20000, c.svc.port, "tcp"})
		r.Networks = append(r.Networks, "proxy")
		r.Labels["traefik.enable"] = "true"
		r.Labels["traefik.http.routers."+c.project+".rule"] = "Host(`" + c.project + ".example.felhom.eu`)"
		r.Labels["traefik.http.services."+c.project+".loadbalancer.server.port"] = fmt.Sprint(c.svc.port)
	}
	for _, m := range c.svc.mounts {
		r.Mounts = append(r.Mounts, parseMount(m))
	}
	if r.Mounts == nil {
		r.Mounts = []containerMount{}
	}
	return r
}

func parseMount(spec string) containerMount {
	parts := strings.Split(spec, ":")
	m := containerMount{Type: "bind", Source: parts[0], Destination: parts[1], Mode: "rw", RW: true}
	if len(parts) > 2 {
		m.Mode, m.RW = parts[2], parts[2] != "ro"
	}
	return m
}

// humanDuration renders an uptime as docker ps does.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "Less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d < 14*24*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d weeks", int(d.Hours()/24/7))
}
