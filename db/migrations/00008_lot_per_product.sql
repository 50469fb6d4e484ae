-- +goose Up
-- GS1 identifies a lot by GTIN + lot: the same lot code under two products
-- is two batches. Lookups by the number alone (search, the events form)
-- stay served by batches_number_id_idx (batch_number, id) from 00004; the
-- Digital Link's (gtin, lot) by the new (product_id, batch_number) key.
ALTER TABLE batches DROP CONSTRAINT batches_batch_number_key;
ALTER TABLE batches ADD CONSTRAINT batches_product_batch_number_key UNIQUE (product_id, batch_number);

-- Units: batches and products store UN/ECE Recommendation 20 codes, the
-- vocabulary of EPCIS quantity lists (gs1.Units keeps the list in step).
-- In this migration rather than its own because 00009 is taken.
ALTER TABLE batches DROP CONSTRAINT batches_unit_of_measure_check;
ALTER TABLE batches ALTER COLUMN unit_of_measure SET DEFAULT 'H87';
UPDATE batches SET unit_of_measure = unece_code(unit_of_measure);
ALTER TABLE batches ADD CONSTRAINT batches_unit_of_measure_check
    CHECK (unit_of_measure IN ('H87', 'KGM', 'GRM', 'LTR', 'MLT', 'MTR', 'TNE', 'LBR', 'ONZ', 'DZN'));

ALTER TABLE products ALTER COLUMN unit SET DEFAULT 'H87';
UPDATE products SET unit = coalesce(unece_code(unit), 'H87');
ALTER TABLE products ADD CONSTRAINT products_unit_check
    CHECK (unit IN ('H87', 'KGM', 'GRM', 'LTR', 'MLT', 'MTR', 'TNE', 'LBR', 'ONZ', 'DZN'));

-- unece_code now also takes a code (and returns it), so queries written
-- against unit names keep working on the codes.
CREATE OR REPLACE FUNCTION unece_code(unit text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN unit IN ('H87', 'KGM', 'GRM', 'LTR', 'MLT', 'MTR', 'TNE', 'LBR', 'ONZ', 'DZN') THEN unit
                ELSE CASE unit WHEN 'unit' THEN 'H87' WHEN 'kg' THEN 'KGM' WHEN 'g' THEN 'GRM'
                               WHEN 'L' THEN 'LTR' WHEN 'mL' THEN 'MLT' WHEN 'm' THEN 'MTR'
                               WHEN 't' THEN 'TNE' WHEN 'lb' THEN 'LBR' WHEN 'oz' THEN 'ONZ'
                               WHEN 'dozen' THEN 'DZN' END END;

-- +goose Down
-- Fails while a lot code is used by two products, or a batch or product has
-- a unit the old names cannot say (t, lb, oz, dozen): resolve those first.
CREATE OR REPLACE FUNCTION unece_code(unit text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE unit WHEN 'unit' THEN 'H87' WHEN 'kg' THEN 'KGM' WHEN 'g' THEN 'GRM'
                     WHEN 'L' THEN 'LTR' WHEN 'mL' THEN 'MLT' WHEN 'm' THEN 'MTR' END;

ALTER TABLE products DROP CONSTRAINT products_unit_check;
UPDATE products SET unit = CASE unit WHEN 'H87' THEN 'unit' WHEN 'KGM' THEN 'kg' WHEN 'GRM' THEN 'g'
                                     WHEN 'LTR' THEN 'L' WHEN 'MLT' THEN 'mL' WHEN 'MTR' THEN 'm' ELSE unit END;
ALTER TABLE products ALTER COLUMN unit SET DEFAULT 'unit';

ALTER TABLE batches DROP CONSTRAINT batches_unit_of_measure_check;
UPDATE batches SET unit_of_measure = CASE unit_of_measure WHEN 'H87' THEN 'unit' WHEN 'KGM' THEN 'kg' WHEN 'GRM' THEN 'g'
                                     WHEN 'LTR' THEN 'L' WHEN 'MLT' THEN 'mL' WHEN 'MTR' THEN 'm' ELSE unit_of_measure END;
ALTER TABLE batches ALTER COLUMN unit_of_measure SET DEFAULT 'unit';
ALTER TABLE batches ADD CONSTRAINT batches_unit_of_measure_check
    CHECK (unit_of_measure IN ('unit', 'kg', 'g', 'L', 'mL', 'm'));

ALTER TABLE batches DROP CONSTRAINT batches_product_batch_number_key;
ALTER TABLE batches ADD CONSTRAINT batches_batch_number_key UNIQUE (batch_number);
