// Package chaos holds TestChaos: a cluster from scripts/cluster.sh (HAProxy,
// three instances, PgBouncer, PostgreSQL, Redis) under client load while its
// parts fail one after another, and the checks that nothing was lost,
// doubled or read stale. `make chaos` runs it long (CHAOS_DURATION).
package chaos
