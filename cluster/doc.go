// Package cluster holds the tests of scripts/cluster.sh: a real cluster
// (HAProxy, three instances, PgBouncer, Redis, PostgreSQL) on free ports,
// driven the way an operator drives it.
package cluster
