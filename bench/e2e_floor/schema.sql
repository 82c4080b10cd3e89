-- SQL floor for an order orchestrated end to end (bench/e2e_bench.py): the least work
-- PostgreSQL must do to capture an order, reserve its stock and release it to a node, in the
-- three transactions the OMS uses (capture, route = reserve + fulfillment order, release).
-- Built on the shared capture floor's schema idea (../shared/bench/schema.sql), in tables of
-- its own so both can live in one database. Re-created (and stock re-seeded) on every run.
DROP TABLE IF EXISTS e2e_event, e2e_fulfillment, e2e_order_line, e2e_order, e2e_stock CASCADE;

CREATE TABLE e2e_stock (
    sku        text    NOT NULL,
    node_id    integer NOT NULL,
    on_hand    integer NOT NULL CHECK (on_hand >= 0),
    reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, node_id)
);

CREATE TABLE e2e_order (
    id           bigserial PRIMARY KEY,
    channel      text        NOT NULL,
    external_id  text        NOT NULL,
    status       text        NOT NULL,
    currency     char(3)     NOT NULL,
    total        numeric(14,2) NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, external_id)
);

CREATE TABLE e2e_order_line (
    id         bigserial PRIMARY KEY,
    order_id   bigint  NOT NULL REFERENCES e2e_order(id),
    line_no    integer NOT NULL,
    sku        text    NOT NULL,
    qty        integer NOT NULL CHECK (qty > 0),
    unit_price numeric(14,2) NOT NULL,
    node_id    integer,
    UNIQUE (order_id, line_no)
);

CREATE TABLE e2e_fulfillment (
    id          bigserial PRIMARY KEY,
    order_id    bigint  NOT NULL REFERENCES e2e_order(id),
    node_id     integer NOT NULL,
    status      text    NOT NULL,
    released_at timestamptz
);
CREATE INDEX ON e2e_fulfillment (order_id);

CREATE TABLE e2e_event (
    id          bigserial PRIMARY KEY,
    stream      text    NOT NULL,
    seq         integer NOT NULL,
    type        text    NOT NULL,
    payload     jsonb   NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, seq)
);

INSERT INTO e2e_stock (sku, node_id, on_hand)
SELECT 'SKU-' || g, 1, 1000000 FROM generate_series(1, :nskus) g;
VACUUM ANALYZE e2e_stock;
