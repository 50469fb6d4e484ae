-- +goose Up
-- The EPCIS 2.0 event store: every event keeps its document (the JSON
-- object as received) beside an indexed projection of what queries and
-- tracing filter on. Events recorded before this migration get a document
-- built from their columns, and their projection, so nothing is lost and
-- the EPCIS query interface sees them like captured ones.

-- GS1 Digital Link percent-encoding of an AI value, as gs1.EscapeDigitalLink
-- does it: everything but A-Z a-z 0-9 and -._~ as %XX in upper case.
CREATE FUNCTION gs1_escape(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT coalesce(string_agg(CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
                                                 OR b IN (45, 46, 95, 126)
                                            THEN chr(b) ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END, '' ORDER BY i), '')
            FROM (SELECT get_byte(convert_to(s, 'UTF8'), i) AS b, i
                  FROM generate_series(0, octet_length(convert_to(s, 'UTF8')) - 1) i) bytes);

-- The canonical key of a lot (an LGTIN): 01/{gtin14}/10/{escaped lot}.
CREATE FUNCTION lot_key(gtin text, lot text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN '01/' || gtin || '/10/' || gs1_escape(lot);

-- The canonical key of an EPC URI recorded before this migration: the
-- path of a GS1 Digital Link, else the URI itself (inventory.legacyEPCKey).
CREATE FUNCTION legacy_epc_key(uri text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN uri ~ '^https?://[^/]+/[0-9]' THEN regexp_replace(uri, '^https?://[^/]+/', '') ELSE uri END;

ALTER TABLE events
    ADD COLUMN event_id                     text,
    ADD COLUMN hash_id                      text,
    ADD COLUMN document                     jsonb,
    ADD COLUMN context                      jsonb,
    ADD COLUMN persistent_disposition_set   text[],
    ADD COLUMN persistent_disposition_unset text[],
    ADD COLUMN read_point                   text,
    ADD COLUMN biz_location                 text,
    ADD COLUMN transformation_id            text,
    ADD COLUMN declared_in_error_at         timestamptz,
    ADD COLUMN error_reason                 text,
    ADD COLUMN corrective_event_ids         text[],
    ADD COLUMN capture_job_id               uuid;
ALTER TABLE events DROP CONSTRAINT events_source_type_check,
    ADD CONSTRAINT events_source_type_check
        CHECK (source_type IN ('manual', 'api', 'system', 'import', 'capture'));

-- An old quantity list ([{batch_id, quantity, uom}]) as EPCIS quantity
-- elements; a batch that no longer resolves keeps its id as a URN.
CREATE FUNCTION legacy_quantity_list(items jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'epcClass', coalesce('https://id.gs1.org/' || lot_key(p.gtin, b.batch_number),
                                            'urn:uuid:' || (it ->> 'batch_id')),
                       'quantity', (it ->> 'quantity')::numeric,
                       'uom', coalesce(unece_code(nullif(it ->> 'uom', '')), nullif(it ->> 'uom', ''),
                                       unece_code(b.unit_of_measure), b.unit_of_measure)))
                   ORDER BY n), '[]')
            FROM jsonb_array_elements(items) WITH ORDINALITY AS x(it, n)
            LEFT JOIN batches b ON b.id = (it ->> 'batch_id')::uuid
            LEFT JOIN products p ON p.id = b.product_id);

-- Extension keys of an old ilmd get the batchtrack prefix, unless they
-- carry a prefix of their own.
CREATE FUNCTION legacy_ilmd(ilmd jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN jsonb_typeof(ilmd) = 'object' THEN
               (SELECT coalesce(jsonb_object_agg(CASE WHEN k LIKE '%:%' THEN k ELSE 'bt:' || k END, v), '{}')
                FROM jsonb_each(ilmd) AS x(k, v)) END;

CREATE FUNCTION legacy_context(ilmd jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN jsonb_typeof(ilmd) = 'object'
                 AND EXISTS (SELECT 1 FROM jsonb_object_keys(ilmd) k WHERE k NOT LIKE '%:%')
           THEN '{"bt": "https://batchtrack.dev/epcis/ns/"}'::jsonb END;

-- The EPCIS document of an event recorded through the staff UI, the JSON
-- API or a consume (inventory.legacyDocument builds the same in Go; a test
-- compares the two).
CREATE FUNCTION legacy_document(e events) RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN (SELECT jsonb_object_agg(k, v)
            FROM jsonb_each(jsonb_build_object(
                'type', e.event_type,
                'eventID', e.event_id,
                'eventTime', to_char(e.event_time AT TIME ZONE e.event_timezone::interval, 'YYYY-MM-DD"T"HH24:MI:SS')
                             || rtrim('.' || to_char(e.event_time, 'US'), '.0') || e.event_timezone,
                'eventTimeZoneOffset', e.event_timezone,
                'action', e.action,
                'bizStep', e.biz_step,
                'disposition', e.disposition,
                'readPoint', (SELECT jsonb_build_object('id', 'https://id.gs1.org/414/' || l.gln)
                              FROM locations l WHERE l.id = e.read_point_id),
                'bizLocation', (SELECT jsonb_build_object('id', 'https://id.gs1.org/414/' || l.gln)
                                FROM locations l WHERE l.id = e.biz_location_id),
                'epcList', CASE WHEN jsonb_array_length(e.epc_list) > 0 THEN e.epc_list END,
                'quantityList', CASE WHEN jsonb_array_length(e.quantity_list) > 0
                                     THEN legacy_quantity_list(e.quantity_list) END,
                'inputQuantityList', CASE WHEN jsonb_array_length(e.input_quantity_list) > 0
                                          THEN legacy_quantity_list(e.input_quantity_list) END,
                'outputQuantityList', CASE WHEN jsonb_array_length(e.output_quantity_list) > 0
                                           THEN legacy_quantity_list(e.output_quantity_list) END,
                'ilmd', legacy_ilmd(e.ilmd))) WITH ORDINALITY AS x(k, v, n)
            WHERE v <> 'null'::jsonb);

-- Rows are append-only; this one rewrite fills the new columns.
ALTER TABLE events DISABLE TRIGGER events_append_only;
UPDATE events e SET
    event_id = 'urn:uuid:' || e.id,
    read_point = (SELECT '414/' || l.gln FROM locations l WHERE l.id = e.read_point_id),
    biz_location = (SELECT '414/' || l.gln FROM locations l WHERE l.id = e.biz_location_id),
    context = legacy_context(e.ilmd);
UPDATE events e SET document = legacy_document(e);
ALTER TABLE events ENABLE TRIGGER events_append_only;

ALTER TABLE events
    ALTER COLUMN event_id SET NOT NULL,
    ALTER COLUMN document SET NOT NULL,
    ADD CONSTRAINT events_event_id_key UNIQUE (event_id),
    ADD CONSTRAINT events_document_object CHECK (jsonb_typeof(document) = 'object');
CREATE UNIQUE INDEX events_hash_id_key ON events (hash_id);
CREATE INDEX events_recorded_idx ON events (recorded_at, id);
CREATE INDEX events_disposition_time_idx ON events (disposition, event_time DESC, id DESC);
-- Equality comes out in time order (a page of one location's events);
-- text_pattern_ops also serves WD_'s prefix match.
CREATE INDEX events_read_point_idx ON events (read_point text_pattern_ops, event_time DESC, id DESC);
CREATE INDEX events_biz_location_key_idx ON events (biz_location text_pattern_ops, event_time DESC, id DESC);
CREATE INDEX events_transformation_idx ON events (transformation_id) WHERE transformation_id IS NOT NULL;
CREATE INDEX events_error_reason_idx ON events (error_reason) WHERE error_reason IS NOT NULL;
CREATE INDEX events_declared_idx ON events (declared_in_error_at) WHERE declared_in_error_at IS NOT NULL;
CREATE INDEX events_corrective_idx ON events USING gin (corrective_event_ids) WHERE corrective_event_ids IS NOT NULL;
CREATE INDEX events_capture_job_idx ON events (capture_job_id) WHERE capture_job_id IS NOT NULL;

-- Events inserted without a document (the consume statement, old-style
-- inserts) get their eventID, location keys and document here.
-- +goose StatementBegin
CREATE FUNCTION events_fill_epcis() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_id IS NULL THEN
        NEW.event_id := 'urn:uuid:' || NEW.id;
    END IF;
    IF NEW.read_point IS NULL AND NEW.read_point_id IS NOT NULL THEN
        NEW.read_point := (SELECT '414/' || gln FROM locations WHERE id = NEW.read_point_id);
    END IF;
    IF NEW.biz_location IS NULL AND NEW.biz_location_id IS NOT NULL THEN
        NEW.biz_location := (SELECT '414/' || gln FROM locations WHERE id = NEW.biz_location_id);
    END IF;
    IF NEW.document IS NULL THEN
        NEW.document := legacy_document(NEW);
        NEW.context := coalesce(NEW.context, legacy_context(NEW.ilmd));
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_fill_epcis BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_fill_epcis();

-- Every EPC (instance) and EPC class an event names, with its role.
-- event_time is copied so an identifier's events come sorted from the index.
CREATE TABLE event_epcs (
    event_id   uuid NOT NULL REFERENCES events (id),
    role       text NOT NULL CHECK (role IN ('epc', 'parent', 'child', 'input', 'output')),
    key        text NOT NULL,
    is_class   boolean NOT NULL,
    quantity   numeric,
    uom        text,
    event_time timestamptz NOT NULL
);
CREATE INDEX event_epcs_key_time_idx ON event_epcs (key text_pattern_ops, event_time);
-- Many distinct keys: finer statistics keep prefix (EPC pattern) estimates
-- close, so the planner starts from this index when a pattern is selective.
ALTER TABLE event_epcs ALTER COLUMN key SET STATISTICS 1000;
CREATE INDEX event_epcs_event_idx ON event_epcs (event_id);

CREATE TABLE event_biz_transactions (
    event_id uuid NOT NULL REFERENCES events (id),
    type     text NOT NULL, -- '' when untyped
    key      text NOT NULL,
    id       text NOT NULL
);
CREATE INDEX event_biz_transactions_type_key_idx ON event_biz_transactions (type, key);
CREATE INDEX event_biz_transactions_event_idx ON event_biz_transactions (event_id);

CREATE TABLE event_parties (
    event_id uuid NOT NULL REFERENCES events (id),
    kind     text NOT NULL CHECK (kind IN ('source', 'destination')),
    type     text NOT NULL,
    key      text NOT NULL,
    id       text NOT NULL
);
CREATE INDEX event_parties_kind_type_key_idx ON event_parties (kind, type, key);
CREATE INDEX event_parties_event_idx ON event_parties (event_id);

CREATE TRIGGER event_epcs_append_only BEFORE UPDATE OR DELETE ON event_epcs
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER event_biz_transactions_append_only BEFORE UPDATE OR DELETE ON event_biz_transactions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER event_parties_append_only BEFORE UPDATE OR DELETE ON event_parties
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- The projection of the events recorded so far.
INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
SELECT e.id, 'epc', legacy_epc_key(epc), false, NULL, NULL, e.event_time
FROM events e, jsonb_array_elements_text(e.epc_list) AS epc;
INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
SELECT e.id, l.role, coalesce(lot_key(p.gtin, b.batch_number), 'urn:uuid:' || (it ->> 'batch_id')), true,
       (it ->> 'quantity')::numeric,
       coalesce(unece_code(nullif(it ->> 'uom', '')), nullif(it ->> 'uom', ''), unece_code(b.unit_of_measure),
                b.unit_of_measure),
       e.event_time
FROM events e
CROSS JOIN LATERAL (VALUES ('epc', e.quantity_list), ('input', e.input_quantity_list),
                           ('output', e.output_quantity_list)) AS l(role, items)
CROSS JOIN LATERAL jsonb_array_elements(l.items) WITH ORDINALITY AS x(it, n)
LEFT JOIN batches b ON b.id = (it ->> 'batch_id')::uuid
LEFT JOIN products p ON p.id = b.product_id;
-- Batches an event named without a quantity.
INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
SELECT eb.event_id, 'epc', lot_key(p.gtin, b.batch_number), true, NULL, NULL, eb.event_time
FROM event_batches eb
JOIN batches b ON b.id = eb.batch_id
JOIN products p ON p.id = b.product_id
WHERE eb.quantity IS NULL AND eb.role = 'object';

-- A capture request's job (EPCIS capture interface): status and errors.
CREATE TABLE capture_jobs (
    id              uuid PRIMARY KEY,
    status          text NOT NULL CHECK (status IN ('running', 'success', 'failed')),
    error_behaviour text NOT NULL CHECK (error_behaviour IN ('rollback', 'proceed')),
    caller          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    event_count     integer NOT NULL DEFAULT 0,
    stored_count    integer NOT NULL DEFAULT 0,
    errors          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array')
);
CREATE INDEX capture_jobs_created_idx ON capture_jobs (created_at DESC, id DESC);
ALTER TABLE events ADD CONSTRAINT events_capture_job_fkey FOREIGN KEY (capture_job_id) REFERENCES capture_jobs (id);

-- +goose Down
ALTER TABLE events DROP CONSTRAINT events_capture_job_fkey;
DROP TABLE capture_jobs;
DROP TABLE event_parties;
DROP TABLE event_biz_transactions;
DROP TABLE event_epcs;
DROP TRIGGER events_fill_epcis ON events;
DROP FUNCTION events_fill_epcis();
DROP INDEX events_capture_job_idx, events_corrective_idx, events_declared_idx, events_error_reason_idx,
    events_transformation_idx, events_biz_location_key_idx, events_read_point_idx,
    events_disposition_time_idx, events_recorded_idx, events_hash_id_key;
ALTER TABLE events DROP CONSTRAINT events_document_object, DROP CONSTRAINT events_event_id_key;
DROP FUNCTION legacy_document(events);
DROP FUNCTION legacy_context(jsonb);
DROP FUNCTION legacy_ilmd(jsonb);
DROP FUNCTION legacy_quantity_list(jsonb);
ALTER TABLE events DROP CONSTRAINT events_source_type_check;
ALTER TABLE events ADD CONSTRAINT events_source_type_check
    CHECK (source_type IN ('manual', 'api', 'system', 'import'));
ALTER TABLE events
    DROP COLUMN capture_job_id, DROP COLUMN corrective_event_ids, DROP COLUMN error_reason,
    DROP COLUMN declared_in_error_at, DROP COLUMN transformation_id, DROP COLUMN biz_location,
    DROP COLUMN read_point, DROP COLUMN persistent_disposition_unset, DROP COLUMN persistent_disposition_set,
    DROP COLUMN context, DROP COLUMN document, DROP COLUMN hash_id, DROP COLUMN event_id;
DROP FUNCTION legacy_epc_key(text);
DROP FUNCTION lot_key(text, text);
DROP FUNCTION gs1_escape(text);
