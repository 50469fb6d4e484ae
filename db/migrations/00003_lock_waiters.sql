-- +goose Up
-- Sessions of this database waiting on a lock right now, with who blocks
-- them and, for row locks on batches, the batch: from the tuple lock the
-- waiter holds (first in line) or waits for (the others). A function, so
-- the catalog views stay out of sqlc's schema.
-- +goose StatementBegin
CREATE FUNCTION lock_waiters()
RETURNS TABLE (pid integer, wait_event text, waiting_seconds float8, blocked_by integer[], query text, batch_id uuid)
LANGUAGE sql STABLE AS $$
    SELECT a.pid,
           coalesce(a.wait_event, ''),
           extract(epoch FROM now() - coalesce(a.query_start, now()))::float8,
           pg_blocking_pids(a.pid),
           left(coalesce(a.query, ''), 200),
           (SELECT b.id FROM pg_locks l
            JOIN batches b ON b.ctid = format('(%s,%s)', l.page, l.tuple)::tid
            WHERE l.pid = a.pid AND l.locktype = 'tuple' AND l.relation = 'batches'::regclass
            LIMIT 1)
    FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
    ORDER BY a.query_start
    LIMIT 20
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION lock_waiters();
