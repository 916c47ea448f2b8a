package main

import (
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/dr"
	"github.com/felhom/hub/monitor"
)

// jobDRCheck is the daily job that grades every managed customer's
// disaster-recovery readiness.
const jobDRCheck = "dr_check"

// newDRChecker returns the checker of disaster-recovery readiness; reports
// and bundles mark their customer through the API's DRChanged.
func (m *Main) newDRChecker() *dr.Checker {
	cfg := m.Config
	return &dr.Checker{
		Store:             m.DB,
		Configs:           m.Templates,
		MaxBundleAge:      cfg.DR.MaxBundleAge.D(),
		MaxRestoreTestAge: cfg.DR.MaxRestoreTestAge.D(),
		Now:               m.Now,
		Logger:            m.Logger.With("component", "dr"),
	}
}

// drDailyJob is the daily full pass, run under the daily jobs' lease.
func (m *Main) drDailyJob() (monitor.DailyJob, error) {
	at, err := config.ParseClock(m.Config.DR.CheckSchedule)
	if err != nil {
		return monitor.DailyJob{}, err
	}
	return monitor.DailyJob{Name: jobDRCheck, At: at, Run: m.drChecker.CheckAll}, nil
}

// newRecoveryLinks mints single-use recovery links, audited.
func (m *Main) newRecoveryLinks() *dr.Links {
	return &dr.Links{Customers: m.DB, Access: m.DB, Audit: m.DB, Now: m.Now}
}
