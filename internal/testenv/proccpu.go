package testenv

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PostgresCPU is the CPU time the Postgres server behind databaseURL has
// used so far: its postmaster's, its live backends' and the exited
// backends' it has reaped. A benchmark reads it before and after to say how
// much of the machine the database took; it works for servers on this
// machine only (Linux /proc).
func PostgresCPU(databaseURL string) (time.Duration, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return 0, fmt.Errorf("postgres cpu: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	pids, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range pids {
		cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(cmd, "\x00")), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "postgres" || !hasArgs(args, "-p", port) {
			continue
		}
		pid := filepath.Base(dir)
		total, err := procCPU(pid, true)
		if err != nil {
			return 0, err
		}
		kids, _ := os.ReadFile(filepath.Join(dir, "task", pid, "children"))
		for _, k := range strings.Fields(string(kids)) {
			if t, err := procCPU(k, false); err == nil {
				total += t
			}
		}
		return total, nil
	}
	return 0, fmt.Errorf("postgres cpu: no server on port %s", port)
}

func hasArgs(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// procCPU reads a process's user and system time from /proc/PID/stat, and
// its reaped children's with children set.
func procCPU(pid string, children bool) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from after the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	// utime, stime, cutime, cstime are fields 14-17 of stat; f starts at
	// field 3.
	n := 2
	if children {
		n = 4
	}
	var ticks int64
	for i := range n {
		v, err := strconv.ParseInt(f[11+i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/%s/stat: %w", pid, err)
		}
		ticks += v
	}
	// Linux reports in USER_HZ, 100 on every architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
