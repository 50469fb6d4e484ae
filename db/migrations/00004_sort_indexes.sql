-- +goose Up
-- The staff UI sorts the batch list by number and by expiry too.
CREATE INDEX batches_number_id_idx ON batches (batch_number, id);
CREATE INDEX batches_expiry_sort_idx ON batches ((coalesce(expiry_date, 'infinity'::date)), id);
-- No index on quantity_available, on purpose: it changes on every consume,
-- and an indexed column would make every consume a non-HOT update writing
-- all the table's indexes. Sorting by it scans (fine at these sizes).
-- Free space in each page lets those updates stay HOT (same page, no index
-- writes) for the balance row that changes most.
ALTER TABLE batches SET (fillfactor = 70);

-- +goose Down
ALTER TABLE batches RESET (fillfactor);
DROP INDEX batches_expiry_sort_idx;
DROP INDEX batches_number_id_idx;
