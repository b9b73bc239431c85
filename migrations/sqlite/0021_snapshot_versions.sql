-- Snapshots store what changed, not everything each sync saw. A version is one item (a
-- server or a user) as one or more consecutive successful syncs of its scope saw it: from the
-- first sync that saw it to the first that did not (it changed or was gone; NULL: it is
-- current). An unchanged resync writes nothing here; the inventory as of any sync is the
-- versions alive at it (see inventory::snapshots). Versions that ended longer ago than the
-- retention go, except those a campaign was launched from (PAR_SNAPSHOT_RETENTION_DAYS).

CREATE TABLE snapshot_versions (
    scope     TEXT    NOT NULL,                      -- servers | users
    item_key  TEXT    NOT NULL,                      -- Postmark server id | user email
    from_sync INTEGER NOT NULL REFERENCES syncs (id),
    to_sync   INTEGER REFERENCES syncs (id),
    data      TEXT    NOT NULL,                      -- canonical JSON, as the tables before
    PRIMARY KEY (scope, item_key, from_sync)
);

-- At most one current version per item; the lookup a sync makes for each item it closes.
CREATE UNIQUE INDEX snapshot_versions_current ON snapshot_versions (scope, item_key)
    WHERE to_sync IS NULL;
-- Retention finds versions by the sync that ended them. (Not led by scope: an index on
-- (scope, to_sync) tempted SQLite to scan every current version for each item closed.)
CREATE INDEX snapshot_versions_to ON snapshot_versions (to_sync);

-- The full snapshots written until now, folded into versions: consecutive syncs (in the order
-- they were saved) that saw the same data are one version.
WITH ordered AS (
    SELECT id, scope, ROW_NUMBER() OVER (PARTITION BY scope ORDER BY finished_at, id) AS n
    FROM syncs WHERE status = 'succeeded'
),
seen AS (
    SELECT 'servers' AS scope, CAST(s.postmark_id AS TEXT) AS item_key, s.data, o.n
    FROM server_snapshots s JOIN ordered o ON o.id = s.sync_id AND o.scope = 'servers'
    UNION ALL
    SELECT 'users', u.email, u.data, o.n
    FROM user_snapshots u JOIN ordered o ON o.id = u.sync_id AND o.scope = 'users'
),
marked AS (
    SELECT scope, item_key, data, n,
           CASE WHEN LAG(n) OVER w = n - 1 AND LAG(data) OVER w = data THEN 0 ELSE 1 END AS starts
    FROM seen
    WINDOW w AS (PARTITION BY scope, item_key ORDER BY n)
),
runs AS (
    SELECT scope, item_key, data, n,
           SUM(starts) OVER (PARTITION BY scope, item_key ORDER BY n) AS run
    FROM marked
),
versions AS (
    SELECT scope, item_key, MIN(data) AS data, MIN(n) AS first_n, MAX(n) AS last_n
    FROM runs GROUP BY scope, item_key, run
)
INSERT INTO snapshot_versions (scope, item_key, from_sync, to_sync, data)
SELECT v.scope, v.item_key, f.id, t.id, v.data
FROM versions v
JOIN ordered f ON f.scope = v.scope AND f.n = v.first_n
LEFT JOIN ordered t ON t.scope = v.scope AND t.n = v.last_n + 1;

DROP TABLE server_snapshots;
DROP TABLE user_snapshots;

-- When the activity (sends in 30 days) was last read; a sync reads it again once it is older
-- than a day (or unknown), so an unchanged resync does not ask Postmark once per server.
ALTER TABLE servers ADD COLUMN activity_read_at TEXT;
