-- Raw activities created in the range (local dates in the report time zone) with the author's handle, as CSV with a header row, oldest first, streamed by COPY; e-mail-like text masked when keys are given.
-- class: read
-- reads: activities, users
-- optional: max_rows, outer_key
-- COPY cannot take server-side parameters: the caller binds them client-side
-- (psycopg's cursor.copy(query, params) quotes them as literals). author_handle
-- is empty for an orphan post (production has no foreign key). Times are ISO 8601
-- with their UTC offset, as in copy_raw_users.sql; with the pseudonym keys given
-- (only whether outer_key is given matters here: activities hold no e-mail column),
-- e-mail-like text in messages and handles is masked.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
COPY (
    -- Text a spreadsheet would run as a formula (starting with = + - @, tab or CR)
    -- gets a leading quote, as exports.formats.neutralise does for other CSVs.
    SELECT a.uuid, a.user_uuid,
           CASE WHEN left(p.handle, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || p.handle ELSE p.handle END AS author_handle,
           CASE WHEN left(p.message, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || p.message ELSE p.message END AS message,
           a.replies_count, a.reposts_count, a.likes_count, a.reply_to_activity_uuid,
           to_char(a.expires_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS expires_at_utc,
           to_char(a.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_utc,
           to_char(t.local, 'YYYY-MM-DD"T"HH24:MI:SS.US')
             || CASE WHEN t.local < a.created_at THEN '-' ELSE '+' END
             || to_char(greatest(t.local - a.created_at, a.created_at - t.local), 'HH24:MI') AS created_at_local
    FROM activities a LEFT JOIN users u ON u.uuid = a.user_uuid
    CROSS JOIN LATERAL (SELECT (a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS local) t
    CROSS JOIN LATERAL (
        SELECT CASE WHEN %(outer_key)s::bytea IS NULL THEN u.handle
                    ELSE regexp_replace(u.handle, '[^\s@]+@[^\s@]+\.[^\s@]+', '[e-mail removed]', 'g')
               END AS handle,
               CASE WHEN %(outer_key)s::bytea IS NULL THEN a.message
                    ELSE regexp_replace(a.message, '[^\s@]+@[^\s@]+\.[^\s@]+', '[e-mail removed]', 'g')
               END AS message
    ) p
    WHERE a.created_at >= least((%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                                ((%(start_day)s::date::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
      AND a.created_at < least(((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                               (((%(end_day)s::date + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
    ORDER BY a.created_at, a.uuid
    LIMIT %(max_rows)s
) TO STDOUT WITH (FORMAT csv, HEADER true)
