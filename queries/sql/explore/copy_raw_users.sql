-- Raw users created in the range (local dates in the report time zone) as CSV with a header row, oldest first, streamed by COPY; e-mail and Cognito ids pseudonymised when keys are given.
-- class: read
-- reads: users
-- optional: max_rows, inner_key, outer_key
-- COPY cannot take server-side parameters: the caller binds them client-side
-- (psycopg's cursor.copy(query, params) quotes them as literals).
-- Times are ISO 8601 with their UTC offset (2026-11-01T01:30:00.000000-04:00), so
-- the two 01:30s of a DST fall-back differ. With inner_key/outer_key (the HMAC key
-- XORed with ipad/opad, exports.raw.hmac_pads) e-mail and cognito_user_id become the
-- first 32 hex digits of HMAC-SHA256(key, value), built from the built-in sha256()
-- (no pgcrypto needed), and e-mail-like text in names is masked.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
COPY (
    -- Text a spreadsheet would run as a formula (starting with = + - @, tab or CR)
    -- gets a leading quote, as exports.formats.neutralise does for other CSVs.
    SELECT u.uuid,
           CASE WHEN left(p.display_name, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || p.display_name ELSE p.display_name END AS display_name,
           CASE WHEN left(p.handle, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || p.handle ELSE p.handle END AS handle,
           CASE WHEN left(p.email, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || p.email ELSE p.email END AS email,
           CASE WHEN left(p.cognito_user_id, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || p.cognito_user_id ELSE p.cognito_user_id END AS cognito_user_id,
           to_char(u.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_utc,
           to_char(t.local, 'YYYY-MM-DD"T"HH24:MI:SS.US')
             || CASE WHEN t.local < u.created_at THEN '-' ELSE '+' END
             || to_char(greatest(t.local - u.created_at, u.created_at - t.local), 'HH24:MI') AS created_at_local
    FROM users u
    CROSS JOIN LATERAL (SELECT (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS local) t
    CROSS JOIN LATERAL (
        SELECT CASE WHEN %(outer_key)s::bytea IS NULL THEN u.display_name
                    ELSE regexp_replace(u.display_name, '[^\s@]+@[^\s@]+\.[^\s@]+', '[e-mail removed]', 'g')
               END AS display_name,
               CASE WHEN %(outer_key)s::bytea IS NULL THEN u.handle
                    ELSE regexp_replace(u.handle, '[^\s@]+@[^\s@]+\.[^\s@]+', '[e-mail removed]', 'g')
               END AS handle,
               CASE WHEN %(outer_key)s::bytea IS NULL THEN u.email
                    ELSE left(encode(sha256(%(outer_key)s::bytea
                           || sha256(%(inner_key)s::bytea || convert_to(u.email, 'UTF8'))), 'hex'), 32)
               END AS email,
               CASE WHEN %(outer_key)s::bytea IS NULL THEN u.cognito_user_id
                    ELSE left(encode(sha256(%(outer_key)s::bytea
                           || sha256(%(inner_key)s::bytea || convert_to(u.cognito_user_id, 'UTF8'))), 'hex'), 32)
               END AS cognito_user_id
    ) p
    WHERE u.created_at >= least((%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                                ((%(start_day)s::date::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
      AND u.created_at < least(((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                               (((%(end_day)s::date + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
    ORDER BY u.created_at, u.uuid
    LIMIT %(max_rows)s
) TO STDOUT WITH (FORMAT csv, HEADER true)
