package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

func TestDRSettings(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DR.MaxBundleAge.D() != 48*time.Hour || cfg.DR.MaxRestoreTestAge.D() != 35*24*time.Hour || cfg.DR.CheckSchedule != "06:00" {
		t.Errorf("defaults %+v", cfg.DR)
	}
	cfg, err = config.Load(writeFile(t, "dr:\n  max_bundle_age: 72h\n"), []string{"HUB_DR_CHECK_SCHEDULE=07:15", "HUB_DR_MAX_RESTORE_TEST_AGE=240h"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DR.MaxBundleAge.D() != 72*time.Hour || cfg.DR.CheckSchedule != "07:15" || cfg.DR.MaxRestoreTestAge.D() != 240*time.Hour {
		t.Errorf("file and environment: %+v", cfg.DR)
	}
	for _, tt := range []struct{ file, key string }{
		{"dr:\n  max_bundle_age: 30m\n", "dr.max_bundle_age"},
		{"dr:\n  max_bundle_age: 2161h\n", "dr.max_bundle_age"},
		{"dr:\n  max_bundle_age: soon\n", "max_bundle_age"},
		{"dr:\n  max_restore_test_age: 1h\n", "dr.max_restore_test_age"},
		{"dr:\n  check_schedule: \"25:00\"\n", "dr.check_schedule"},
	} {
		_, err := config.Load(writeFile(t, tt.file), nil)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%q: %v, want an error naming %s", tt.file, err, tt.key)
		}
	}
	if _, err := config.Load("", []string{"HUB_DR_MAX_BUNDLE_AGE=-1h"}); err == nil || !strings.Contains(err.Error(), "dr.max_bundle_age") {
		t.Errorf("negative from the environment: %v", err)
	}
}
