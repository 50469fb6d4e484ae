-- +goose Up
-- Events move stock (issue 20): trading partners, a lot's stock per
-- location, every movement kind in the ledger, transfers in transit, holds.

-- Trading partners, identified by PGLN (a GLN for the party). is_own marks
-- our company; roles say what the partner is to us.
CREATE TABLE parties (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pgln         text NOT NULL UNIQUE CHECK (pgln ~ '^[0-9]{13}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    is_own       boolean NOT NULL DEFAULT false,
    roles        text[] NOT NULL DEFAULT '{}'
                 CHECK (roles <@ ARRAY['supplier', 'customer', 'carrier']::text[]),
    address      text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
    contact_name text NOT NULL DEFAULT '' CHECK (length(contact_name) <= 200),
    email        text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    phone        text NOT NULL DEFAULT '' CHECK (length(phone) <= 50),
    notes        text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parties_name_idx ON parties (name, id);
CREATE INDEX parties_name_trgm_idx ON parties USING gin (name gin_trgm_ops);
CREATE INDEX parties_roles_idx ON parties USING gin (roles);

-- A location belongs to a party: ours, or a partner's (a supplier's
-- ship-from, a customer's ship-to). Locations without a party are ours,
-- as every location was before parties existed.
ALTER TABLE locations ADD COLUMN party_id uuid REFERENCES parties (id);
CREATE INDEX locations_party_idx ON locations (party_id, name, id);

-- +goose StatementBegin
CREATE FUNCTION location_is_ours(location uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT l.party_id IS NULL OR p.is_own
            FROM locations l LEFT JOIN parties p ON p.id = l.party_id WHERE l.id = location);
-- +goose StatementEnd

-- A batch row is a lot's stock at one location: a lot moved or shipped to
-- another of our locations has a row there too. origin says how the row
-- began (its quantity_produced): produced here (created, commissioned, a
-- transformation's output), received from a partner, or moved in from
-- another of our locations. created_event_id is the event that created it,
-- so a correction of that event can reverse the opening quantity.
ALTER TABLE batches DROP CONSTRAINT batches_product_batch_number_key;
ALTER TABLE batches ADD CONSTRAINT batches_product_lot_location_key UNIQUE (product_id, batch_number, location_id);
ALTER TABLE batches
    ADD COLUMN origin           text NOT NULL DEFAULT 'produced' CHECK (origin IN ('produced', 'received', 'moved')),
    ADD COLUMN created_event_id uuid REFERENCES events (id) DEFERRABLE INITIALLY DEFERRED,
    ADD COLUMN status_reason    text NOT NULL DEFAULT '' CHECK (length(status_reason) <= 1000),
    -- FSMA 204: who assigned the traceability lot code (a location's GLN),
    -- and the KDEs of the lot's creation (harvest location, field, dates).
    ADD COLUMN tlc_source       text NOT NULL DEFAULT '' CHECK (length(tlc_source) <= 200),
    ADD COLUMN kdes             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(kdes) = 'object');
ALTER TABLE batches DROP CONSTRAINT batches_quality_status_check;
ALTER TABLE batches ADD CONSTRAINT batches_quality_status_check
    CHECK (quality_status IN ('pending', 'approved', 'on_hold', 'rejected', 'recalled'));
-- First expired, first out. No predicate on quantity_available: a column
-- in an index (or its predicate) makes every consume's update a non-HOT one.
CREATE INDEX batches_fefo_idx ON batches (product_id, location_id, expiry_date NULLS LAST, production_date, id);

-- A transformation's expected yield (output over input in a common unit):
-- outside the range, the transformation needs a reason.
ALTER TABLE products
    ADD COLUMN yield_min numeric(9, 3) CHECK (yield_min > 0),
    ADD COLUMN yield_max numeric(9, 3) CHECK (yield_max > 0),
    ADD CONSTRAINT products_yield_range CHECK (yield_min IS NULL OR yield_max IS NULL OR yield_min <= yield_max);

-- Every movement kind in the ledger. quantity is positive except for
-- adjust and reversal, which carry their sign; ledger_delta says what a
-- row does to the balance. A reversal names the row it reverses (NULL for
-- the reversal of a row's opening quantity, which names the event).
ALTER TABLE consumptions DROP CONSTRAINT consumptions_kind_check;
ALTER TABLE consumptions DROP CONSTRAINT consumptions_check;
ALTER TABLE consumptions ADD CONSTRAINT consumptions_kind_check CHECK (kind IN (
    'consume', 'adjust', 'reversal', 'receive', 'produce', 'ship', 'transform_in', 'destroy', 'move_out', 'move_in'));
ALTER TABLE consumptions ADD CONSTRAINT consumptions_quantity_sign
    CHECK (CASE WHEN kind IN ('adjust', 'reversal') THEN quantity <> 0 ELSE quantity > 0 END);
ALTER TABLE consumptions
    ADD COLUMN reverses_id   uuid REFERENCES consumptions (id),
    -- The kind a reversal undoes (the reversed row's, or the row's origin
    -- as receive/produce/move_in for its opening quantity), so a mass
    -- balance nets it against what it corrects.
    ADD COLUMN reverses_kind text CHECK ((kind = 'reversal') OR reverses_kind IS NULL);
CREATE UNIQUE INDEX consumptions_reverses_idx ON consumptions (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX consumptions_event_idx ON consumptions (event_id) WHERE event_id IS NOT NULL;

CREATE FUNCTION ledger_delta(kind text, quantity numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN kind IN ('consume', 'ship', 'transform_in', 'destroy', 'move_out') THEN -quantity
                ELSE quantity END;

-- Stock shipped from one of our locations to another: in transit until a
-- receiving event at the destination takes it in (or a correction of the
-- shipment cancels it). quantity_open is what has not arrived yet.
CREATE TABLE transfers (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ship_event_id    uuid NOT NULL REFERENCES events (id),
    from_batch_id    uuid NOT NULL REFERENCES batches (id),
    product_id       uuid NOT NULL REFERENCES products (id),
    batch_number     text NOT NULL,
    to_location_id   uuid NOT NULL REFERENCES locations (id),
    quantity         numeric(15, 3) NOT NULL CHECK (quantity > 0),
    quantity_open    numeric(15, 3) NOT NULL CHECK (quantity_open >= 0 AND quantity_open <= quantity),
    unit_of_measure  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_open_idx ON transfers (product_id, batch_number, to_location_id) WHERE quantity_open > 0;
CREATE INDEX transfers_from_idx ON transfers (from_batch_id);
CREATE INDEX transfers_ship_event_idx ON transfers (ship_event_id);

-- What each receiving event took out of which transfer, so a correction of
-- the receipt can put it back in transit.
CREATE TABLE transfer_receipts (
    transfer_id      uuid NOT NULL REFERENCES transfers (id),
    receive_event_id uuid NOT NULL REFERENCES events (id),
    quantity         numeric(15, 3) NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (receive_event_id, transfer_id)
);

-- +goose Down
DROP TABLE transfer_receipts;
DROP TABLE transfers;
DROP FUNCTION ledger_delta(text, numeric);
DROP INDEX consumptions_event_idx;
ALTER TABLE consumptions DROP COLUMN reverses_kind, DROP COLUMN reverses_id;
ALTER TABLE consumptions DROP CONSTRAINT consumptions_quantity_sign;
ALTER TABLE consumptions DROP CONSTRAINT consumptions_kind_check;
ALTER TABLE consumptions ADD CONSTRAINT consumptions_kind_check CHECK (kind IN ('consume', 'adjust', 'reversal'));
ALTER TABLE consumptions ADD CONSTRAINT consumptions_check
    CHECK (CASE kind WHEN 'adjust' THEN quantity <> 0 ELSE quantity > 0 END);
ALTER TABLE products DROP CONSTRAINT products_yield_range, DROP COLUMN yield_min, DROP COLUMN yield_max;
DROP INDEX batches_fefo_idx;
ALTER TABLE batches DROP CONSTRAINT batches_quality_status_check;
UPDATE batches SET quality_status = 'pending' WHERE quality_status = 'on_hold';
ALTER TABLE batches ADD CONSTRAINT batches_quality_status_check
    CHECK (quality_status IN ('pending', 'approved', 'rejected', 'recalled'));
ALTER TABLE batches DROP COLUMN kdes, DROP COLUMN tlc_source, DROP COLUMN status_reason,
    DROP COLUMN created_event_id, DROP COLUMN origin;
ALTER TABLE batches DROP CONSTRAINT batches_product_lot_location_key;
ALTER TABLE batches ADD CONSTRAINT batches_product_batch_number_key UNIQUE (product_id, batch_number);
DROP FUNCTION location_is_ours(uuid);
DROP INDEX locations_party_idx;
ALTER TABLE locations DROP COLUMN party_id;
DROP TABLE parties;
