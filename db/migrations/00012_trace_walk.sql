-- +goose Up
-- A frontier-indexed trace walk: trace_edges gives the lot edges touching a
-- set of nodes through indexes only, so a trace step costs what the
-- frontier touches, not what the database holds. The indexes are partial
-- where the consume path writes (event_batches 'object' rows, consume
-- ledger rows), so a consume pays nothing for them.
CREATE INDEX event_batches_transformation_idx ON event_batches (batch_id, role) WHERE role IN ('input', 'output');
CREATE INDEX consumptions_move_idx ON consumptions (batch_id, kind) WHERE kind IN ('move_out', 'move_in');
CREATE INDEX transfers_lot_destination_idx ON transfers (product_id, batch_number, to_location_id);
CREATE INDEX transfer_receipts_transfer_idx ON transfer_receipts (transfer_id);

-- The inverse of gs1_escape: %XX as bytes read as UTF-8, or NULL when s is
-- not such an encoding (a byte sequence that is not UTF-8, or NUL), so a
-- partner's malformed key never raises.
CREATE FUNCTION gs1_unescape(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN s ~* ('^(?:[^%]|%(?:0[1-9A-F]|[1-7][0-9A-F])'
                           '|%(?:C[2-9A-F]|D[0-9A-F])%[89AB][0-9A-F]'
                           '|%E0%[AB][0-9A-F]%[89AB][0-9A-F]'
                           '|%E[1-9A-CEF](?:%[89AB][0-9A-F]){2}'
                           '|%ED%[89][0-9A-F]%[89AB][0-9A-F]'
                           '|%F0%[9AB][0-9A-F](?:%[89AB][0-9A-F]){2}'
                           '|%F[1-3](?:%[89AB][0-9A-F]){3}'
                           '|%F4%8[0-9A-F](?:%[89AB][0-9A-F]){2})*$')
           THEN (SELECT convert_from(coalesce(string_agg(CASE WHEN left(m[1], 1) = '%' THEN decode(substr(m[1], 2), 'hex')
                                                              ELSE convert_to(m[1], 'UTF8') END, ''::bytea ORDER BY n),
                                              ''::bytea), 'UTF8')
                 FROM regexp_matches(s, '%[0-9A-Fa-f]{2}|[^%]+', 'g') WITH ORDINALITY AS x(m, n)) END;

-- The lot edges leaving the nodes (trace_edges_down) or reaching them
-- (trace_edges_up). A node is 'b:' and a batch id, or 'x:' and the lot key
-- of a lot we do not hold (one no batch has: found through products
-- (gtin) and batches (batch_number), then compared by lot_key exactly).
-- Events declared in error are left out. Edges:
-- - transformation: an input to an output of a TransformationEvent;
-- - movement by a move: the row a move_out took from to the row of the
--   same lot the move put it in (a move_in row, or the row it created);
-- - movement by a transfer: the row shipped from to the row of the lot at
--   the destination that a receipt of the transfer put it in.
-- Two functions rather than one with a direction argument: the planner
-- plans a branch that a constant makes empty in full, and slowly.
-- +goose StatementBegin
CREATE FUNCTION trace_edges_down(nodes text[])
    RETURNS TABLE (src text, dst text, kind text, event_id uuid, quantity numeric, input_quantity numeric,
                   output_quantity numeric)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT s.node, o.node, 'transformation', s.event_id, NULL::numeric, s.quantity, o.quantity
FROM (SELECT eb.event_id, 'b:' || eb.batch_id AS node, eb.quantity
      FROM unnest(nodes) f(node)
      JOIN event_batches eb ON eb.batch_id = CASE WHEN f.node LIKE 'b:%' THEN substr(f.node, 3)::uuid END
       AND eb.role = 'input'
      UNION ALL
      SELECT ee.event_id, 'x:' || ee.key, ee.quantity
      FROM unnest(nodes) f(node)
      JOIN event_epcs ee ON ee.key = CASE WHEN f.node LIKE 'x:01/%/10/%' THEN substr(f.node, 3) END
       AND ee.role = 'input'
      WHERE NOT EXISTS (SELECT 1 FROM products p JOIN batches b ON b.product_id = p.id
                        WHERE p.gtin = split_part(ee.key, '/', 2) AND b.batch_number = gs1_unescape(split_part(ee.key, '/', 4))
                          AND lot_key(p.gtin, b.batch_number) = ee.key)) s
JOIN events e ON e.id = s.event_id AND e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL
CROSS JOIN LATERAL (
    SELECT 'b:' || eb.batch_id AS node, eb.quantity
    FROM event_batches eb
    WHERE eb.event_id = e.id AND eb.role = 'output'
    UNION ALL
    SELECT 'x:' || ee.key, ee.quantity
    FROM event_epcs ee
    WHERE ee.event_id = e.id AND ee.role = 'output' AND ee.key LIKE '01/%/10/%'
      AND NOT EXISTS (SELECT 1 FROM products p JOIN batches b ON b.product_id = p.id
                      WHERE p.gtin = split_part(ee.key, '/', 2) AND b.batch_number = gs1_unescape(split_part(ee.key, '/', 4))
                        AND lot_key(p.gtin, b.batch_number) = ee.key)) o
WHERE o.node <> s.node
UNION ALL
-- The move_out rows of the nodes, to the rows of the lot their event filled.
SELECT 'b:' || mo.batch_id, 'b:' || d.id, 'movement', mo.event_id, mo.quantity, NULL, NULL
FROM unnest(nodes) f(node)
JOIN consumptions mo ON mo.batch_id = CASE WHEN f.node LIKE 'b:%' THEN substr(f.node, 3)::uuid END AND mo.kind = 'move_out'
JOIN events e ON e.id = mo.event_id AND e.declared_in_error_at IS NULL
JOIN batches sb ON sb.id = mo.batch_id
JOIN batches d ON d.product_id = sb.product_id AND d.batch_number = sb.batch_number AND d.id <> sb.id
WHERE EXISTS (SELECT 1 FROM event_batches eb WHERE eb.event_id = mo.event_id AND eb.batch_id = d.id)
  AND EXISTS (SELECT 1 WHERE d.created_event_id = mo.event_id
              UNION ALL
              SELECT 1 FROM consumptions mi WHERE mi.batch_id = d.id AND mi.kind = 'move_in' AND mi.event_id = mo.event_id)
UNION ALL
-- Shipped from the nodes to one of our locations, to the row each receipt filled.
SELECT 'b:' || t.from_batch_id, 'b:' || b.id, 'movement', tr.receive_event_id, tr.quantity, NULL, NULL
FROM unnest(nodes) f(node)
JOIN transfers t ON t.from_batch_id = CASE WHEN f.node LIKE 'b:%' THEN substr(f.node, 3)::uuid END
JOIN transfer_receipts tr ON tr.transfer_id = t.id
JOIN events se ON se.id = t.ship_event_id AND se.declared_in_error_at IS NULL
JOIN events re ON re.id = tr.receive_event_id AND re.declared_in_error_at IS NULL
JOIN batches b ON b.product_id = t.product_id AND b.batch_number = t.batch_number AND b.location_id = t.to_location_id
JOIN event_batches eb ON eb.event_id = tr.receive_event_id AND eb.batch_id = b.id
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION trace_edges_up(nodes text[])
    RETURNS TABLE (src text, dst text, kind text, event_id uuid, quantity numeric, input_quantity numeric,
                   output_quantity numeric)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT o.node, s.node, 'transformation', s.event_id, NULL::numeric, o.quantity, s.quantity
FROM (SELECT eb.event_id, 'b:' || eb.batch_id AS node, eb.quantity
      FROM unnest(nodes) f(node)
      JOIN event_batches eb ON eb.batch_id = CASE WHEN f.node LIKE 'b:%' THEN substr(f.node, 3)::uuid END
       AND eb.role = 'output'
      UNION ALL
      SELECT ee.event_id, 'x:' || ee.key, ee.quantity
      FROM unnest(nodes) f(node)
      JOIN event_epcs ee ON ee.key = CASE WHEN f.node LIKE 'x:01/%/10/%' THEN substr(f.node, 3) END
       AND ee.role = 'output'
      WHERE NOT EXISTS (SELECT 1 FROM products p JOIN batches b ON b.product_id = p.id
                        WHERE p.gtin = split_part(ee.key, '/', 2) AND b.batch_number = gs1_unescape(split_part(ee.key, '/', 4))
                          AND lot_key(p.gtin, b.batch_number) = ee.key)) s
JOIN events e ON e.id = s.event_id AND e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL
CROSS JOIN LATERAL (
    SELECT 'b:' || eb.batch_id AS node, eb.quantity
    FROM event_batches eb
    WHERE eb.event_id = e.id AND eb.role = 'input'
    UNION ALL
    SELECT 'x:' || ee.key, ee.quantity
    FROM event_epcs ee
    WHERE ee.event_id = e.id AND ee.role = 'input' AND ee.key LIKE '01/%/10/%'
      AND NOT EXISTS (SELECT 1 FROM products p JOIN batches b ON b.product_id = p.id
                      WHERE p.gtin = split_part(ee.key, '/', 2) AND b.batch_number = gs1_unescape(split_part(ee.key, '/', 4))
                        AND lot_key(p.gtin, b.batch_number) = ee.key)) o
WHERE o.node <> s.node
UNION ALL
-- The events that filled the nodes (a move_in row, or the row's creation),
-- from their move_out rows of the same lot.
SELECT 'b:' || mo.batch_id, 'b:' || d.id, 'movement', mo.event_id, mo.quantity, NULL, NULL
FROM unnest(nodes) f(node)
JOIN batches d ON d.id = CASE WHEN f.node LIKE 'b:%' THEN substr(f.node, 3)::uuid END
CROSS JOIN LATERAL (SELECT d.created_event_id AS id WHERE d.created_event_id IS NOT NULL
                    UNION
                    SELECT mi.event_id FROM consumptions mi WHERE mi.batch_id = d.id AND mi.kind = 'move_in') ev
JOIN events e ON e.id = ev.id AND e.declared_in_error_at IS NULL
JOIN consumptions mo ON mo.event_id = ev.id AND mo.kind = 'move_out' AND mo.batch_id <> d.id
JOIN batches sb ON sb.id = mo.batch_id AND sb.product_id = d.product_id AND sb.batch_number = d.batch_number
WHERE EXISTS (SELECT 1 FROM event_batches eb WHERE eb.event_id = ev.id AND eb.batch_id = d.id)
UNION ALL
-- Received into the nodes from another of our locations, from the rows shipped.
SELECT 'b:' || t.from_batch_id, 'b:' || b.id, 'movement', tr.receive_event_id, tr.quantity, NULL, NULL
FROM unnest(nodes) f(node)
JOIN batches b ON b.id = CASE WHEN f.node LIKE 'b:%' THEN substr(f.node, 3)::uuid END
JOIN transfers t ON t.product_id = b.product_id AND t.batch_number = b.batch_number AND t.to_location_id = b.location_id
JOIN transfer_receipts tr ON tr.transfer_id = t.id
JOIN events se ON se.id = t.ship_event_id AND se.declared_in_error_at IS NULL
JOIN events re ON re.id = tr.receive_event_id AND re.declared_in_error_at IS NULL
JOIN event_batches eb ON eb.event_id = tr.receive_event_id AND eb.batch_id = b.id
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION trace_edges_up(text[]);
DROP FUNCTION trace_edges_down(text[]);
DROP FUNCTION gs1_unescape(text);
DROP INDEX transfer_receipts_transfer_idx;
DROP INDEX transfers_lot_destination_idx;
DROP INDEX consumptions_move_idx;
DROP INDEX event_batches_transformation_idx;
