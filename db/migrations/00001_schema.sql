-- +goose Up
-- Master data, batches with their balance, the append-only ledger, EPCIS
-- events and idempotency keys. Every filter and sort the API offers has an
-- index here; list queries are checked with EXPLAIN in db tests.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    gtin        text NOT NULL UNIQUE CHECK (gtin ~ '^[0-9]{14}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    category    text NOT NULL DEFAULT '' CHECK (length(category) <= 100),
    unit        text NOT NULL DEFAULT 'unit',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_name_idx ON products (name, id);
CREATE INDEX products_category_name_idx ON products (category, name, id);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);

CREATE TABLE locations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    gln        text NOT NULL UNIQUE CHECK (gln ~ '^[0-9]{13}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type       text NOT NULL CHECK (type IN ('farm', 'factory', 'warehouse', 'distributor', 'retailer')),
    address    text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
    parent_id  uuid REFERENCES locations (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX locations_name_idx ON locations (name, id);
CREATE INDEX locations_type_name_idx ON locations (type, name, id);
CREATE INDEX locations_parent_idx ON locations (parent_id);
CREATE INDEX locations_name_trgm_idx ON locations USING gin (name gin_trgm_ops);

CREATE TABLE batches (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- GS1 AI (10): up to 20 characters of the AI encodable character set 82.
    batch_number       text NOT NULL UNIQUE
                       CHECK (batch_number ~ '^[A-Za-z0-9!"%&''()*+,./:;<=>?_-]{1,20}$'),
    product_id         uuid NOT NULL REFERENCES products (id),
    location_id        uuid NOT NULL REFERENCES locations (id),
    production_date    date NOT NULL,
    expiry_date        date,
    best_before_date   date,
    quantity_produced  numeric(15, 3) NOT NULL CHECK (quantity_produced > 0),
    quantity_available numeric(15, 3) NOT NULL CHECK (quantity_available >= 0),
    unit_of_measure    text NOT NULL DEFAULT 'unit'
                       CHECK (unit_of_measure IN ('unit', 'kg', 'g', 'L', 'mL', 'm')),
    quality_status     text NOT NULL DEFAULT 'pending'
                       CHECK (quality_status IN ('pending', 'approved', 'rejected', 'recalled')),
    notes              text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    version            bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (expiry_date IS NULL OR expiry_date >= production_date),
    CHECK (best_before_date IS NULL OR best_before_date >= production_date)
);
CREATE INDEX batches_created_idx ON batches (created_at DESC, id DESC);
CREATE INDEX batches_product_created_idx ON batches (product_id, created_at DESC, id DESC);
CREATE INDEX batches_location_created_idx ON batches (location_id, created_at DESC, id DESC);
CREATE INDEX batches_status_created_idx ON batches (quality_status, created_at DESC, id DESC);
CREATE INDEX batches_expiry_idx ON batches (expiry_date, id) WHERE expiry_date IS NOT NULL;
CREATE INDEX batches_number_trgm_idx ON batches USING gin (batch_number gin_trgm_ops);

-- The ledger: one row per balance change. consume and reversal carry a
-- positive quantity (consume takes away, reversal gives back); adjust
-- carries its sign. version_after is unique per batch, so the ledger is a
-- gap-free history of the balance row's versions after the first.
-- Units of measure as UN/ECE Recommendation 20 codes, for EPCIS quantity lists.
CREATE FUNCTION unece_code(unit text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE unit WHEN 'unit' THEN 'H87' WHEN 'kg' THEN 'KGM' WHEN 'g' THEN 'GRM'
                     WHEN 'L' THEN 'LTR' WHEN 'mL' THEN 'MLT' WHEN 'm' THEN 'MTR' END;

CREATE TABLE consumptions (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    batch_id                 uuid NOT NULL REFERENCES batches (id),
    kind                     text NOT NULL CHECK (kind IN ('consume', 'adjust', 'reversal')),
    quantity                 numeric(15, 3) NOT NULL,
    quantity_available_after numeric(15, 3) NOT NULL CHECK (quantity_available_after >= 0),
    version_after            bigint NOT NULL CHECK (version_after > 1),
    reason                   text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    actor                    text NOT NULL,
    idempotency_key          text CHECK (length(idempotency_key) <= 255),
    event_id                 uuid,
    created_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE kind WHEN 'adjust' THEN quantity <> 0 ELSE quantity > 0 END),
    UNIQUE (batch_id, version_after)
);

CREATE TABLE events (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_type           text NOT NULL CHECK (event_type IN ('ObjectEvent', 'AggregationEvent',
                             'TransactionEvent', 'TransformationEvent', 'AssociationEvent')),
    action               text CHECK (action IN ('ADD', 'OBSERVE', 'DELETE')),
    event_time           timestamptz NOT NULL,
    event_timezone       text NOT NULL CHECK (event_timezone ~ '^[+-][0-9]{2}:[0-9]{2}$'),
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    biz_step             text,
    disposition          text,
    read_point_id        uuid REFERENCES locations (id),
    biz_location_id      uuid REFERENCES locations (id),
    epc_list             jsonb NOT NULL DEFAULT '[]',
    quantity_list        jsonb NOT NULL DEFAULT '[]',
    input_quantity_list  jsonb NOT NULL DEFAULT '[]',
    output_quantity_list jsonb NOT NULL DEFAULT '[]',
    ilmd                 jsonb,
    notes                text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    source_type          text NOT NULL CHECK (source_type IN ('manual', 'api', 'system', 'import')),
    actor                text NOT NULL,
    -- EPCIS: every type but TransformationEvent has an action.
    CHECK ((event_type = 'TransformationEvent') = (action IS NULL))
);
CREATE INDEX events_time_idx ON events (event_time DESC, id DESC);
CREATE INDEX events_type_time_idx ON events (event_type, event_time DESC, id DESC);
CREATE INDEX events_biz_step_time_idx ON events (biz_step, event_time DESC, id DESC);
CREATE INDEX events_source_time_idx ON events (source_type, event_time DESC, id DESC);
CREATE INDEX events_biz_location_time_idx ON events (biz_location_id, event_time DESC, id DESC);

ALTER TABLE consumptions ADD FOREIGN KEY (event_id) REFERENCES events (id);

-- The batches an event names, with their role, so "all events of a batch"
-- and "inputs and outputs of a transformation" are index scans. event_time
-- is copied from the event so a batch's events come sorted from the index.
CREATE TABLE event_batches (
    event_id   uuid NOT NULL REFERENCES events (id),
    batch_id   uuid NOT NULL REFERENCES batches (id),
    role       text NOT NULL CHECK (role IN ('object', 'input', 'output')),
    quantity   numeric(15, 3) CHECK (quantity > 0),
    uom        text NOT NULL DEFAULT '',
    event_time timestamptz NOT NULL,
    PRIMARY KEY (event_id, batch_id, role)
);
CREATE INDEX event_batches_batch_time_idx ON event_batches (batch_id, event_time DESC, event_id DESC);

-- The ledger and the events are append-only: corrections are new rows.
-- +goose StatementBegin
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER consumptions_append_only BEFORE UPDATE OR DELETE ON consumptions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER event_batches_append_only BEFORE UPDATE OR DELETE ON event_batches
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- A request's stored outcome, per caller. status is NULL while the first
-- request with the key is still running.
CREATE TABLE idempotency_keys (
    caller        text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL,
    status        integer,
    content_type  text NOT NULL DEFAULT '',
    response_body bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE event_batches;
ALTER TABLE consumptions DROP CONSTRAINT IF EXISTS consumptions_event_id_fkey;
DROP TABLE events;
DROP TABLE consumptions;
DROP FUNCTION forbid_change();
DROP FUNCTION unece_code(text);
DROP TABLE batches;
DROP TABLE locations;
DROP TABLE products;
