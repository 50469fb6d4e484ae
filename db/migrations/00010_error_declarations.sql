-- +goose Up
-- EPCIS error declarations for events stored earlier: the declaration (an
-- event carrying errorDeclaration, with the original's eventID) is kept
-- whole beside the original, whose document is never edited. The
-- original's row gains only its declaration columns, once, so queries
-- (EXISTS_errorDeclaration, EQ_errorReason, EQ_correctiveEventID) keep
-- their indexes.
CREATE TABLE error_declarations (
    event_id             uuid PRIMARY KEY REFERENCES events (id),
    declaration_time     timestamptz NOT NULL,
    reason               text,
    corrective_event_ids text[] NOT NULL DEFAULT '{}',
    document             jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    capture_job_id       uuid REFERENCES capture_jobs (id),
    actor                text NOT NULL
);
CREATE TRIGGER error_declarations_append_only BEFORE UPDATE OR DELETE ON error_declarations
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Events stay append-only, except that an event not yet declared in error
-- may be declared so, once, with nothing else changing.
-- +goose StatementBegin
CREATE FUNCTION events_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    declaration CONSTANT text[] := ARRAY['declared_in_error_at', 'error_reason', 'corrective_event_ids'];
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.declared_in_error_at IS NULL AND NEW.declared_in_error_at IS NOT NULL
       AND (to_jsonb(NEW) - declaration) = (to_jsonb(OLD) - declaration) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001';
END
$$;
-- +goose StatementEnd
DROP TRIGGER events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_forbid_change();

-- +goose Down
DROP TRIGGER events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
DROP FUNCTION events_forbid_change();
DROP TABLE error_declarations;
