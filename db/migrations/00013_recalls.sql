-- +goose Up
-- Recalls (issue 21): a recall case names the lots it recalled (the ones
-- chosen and every lot downstream of them that we hold), keeps the impact
-- as it was at confirmation, and collects what staff recover against it.
-- A mock recall is the same impact report, computed and timed without
-- changing anything, kept as a record of recall readiness.

CREATE TABLE recalls (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number         bigint NOT NULL GENERATED ALWAYS AS IDENTITY UNIQUE,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    -- FDA recall classes, a market withdrawal (no violation), or not yet
    -- classified (the FDA classifies a recall after it starts).
    classification text NOT NULL CHECK (classification IN ('unclassified', 'class_i', 'class_ii', 'class_iii', 'market_withdrawal')),
    decided_by     text NOT NULL CHECK (length(decided_by) BETWEEN 1 AND 200),
    opened_by      text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    duration_ms    double precision NOT NULL,
    -- The impact report as it stood when the recall was confirmed.
    impact         jsonb NOT NULL,
    closed_by      text,
    closed_at      timestamptz,
    closing_note   text NOT NULL DEFAULT '' CHECK (length(closing_note) <= 5000),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX recalls_opened_idx ON recalls (opened_at DESC, id DESC);

-- The lot rows a recall covers: root (chosen, every location of the lot)
-- or downstream (reached from a root), with the status each had before.
CREATE TABLE recall_lots (
    recall_id     uuid NOT NULL REFERENCES recalls (id),
    batch_id      uuid NOT NULL REFERENCES batches (id),
    role          text NOT NULL CHECK (role IN ('root', 'downstream')),
    depth         integer NOT NULL CHECK (depth >= 0),
    status_before text NOT NULL,
    event_id      uuid NOT NULL REFERENCES events (id),
    PRIMARY KEY (recall_id, batch_id)
);
CREATE INDEX recall_lots_batch_idx ON recall_lots (batch_id);

-- Stock recovered against a recall: returned by a customer into one of
-- our locations, or destroyed. Each is a stock movement (its event).
CREATE TABLE recall_recoveries (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recall_id  uuid NOT NULL REFERENCES recalls (id),
    kind       text NOT NULL CHECK (kind IN ('returned', 'destroyed')),
    batch_id   uuid NOT NULL REFERENCES batches (id),
    party_id   uuid REFERENCES parties (id),
    quantity   numeric(15, 3) NOT NULL CHECK (quantity > 0),
    event_id   uuid NOT NULL REFERENCES events (id),
    note       text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    actor      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recall_recoveries_recall_idx ON recall_recoveries (recall_id, created_at);

CREATE TABLE mock_recalls (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    batch_ids   uuid[] NOT NULL,
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    actor       text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms double precision NOT NULL,
    impact      jsonb NOT NULL
);
CREATE INDEX mock_recalls_started_idx ON mock_recalls (started_at DESC, id DESC);

-- +goose Down
DROP TABLE mock_recalls;
DROP TABLE recall_recoveries;
DROP TABLE recall_lots;
DROP TABLE recalls;
