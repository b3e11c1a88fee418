-- Raw activities created in the range (local dates in the report time zone) with the author's handle, as CSV with a header row, oldest first, streamed by COPY.
-- class: read
-- reads: activities, users
-- optional: max_rows
-- COPY cannot take server-side parameters: the caller binds them client-side
-- (psycopg's cursor.copy(query, params) quotes them as literals). author_handle
-- is empty for an orphan post (production has no foreign key).
COPY (
    -- Text a spreadsheet would run as a formula (starting with = + - @, tab or CR)
    -- gets a leading quote, as exports.formats.neutralise does for other CSVs.
    SELECT a.uuid, a.user_uuid,
           CASE WHEN left(u.handle, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || u.handle ELSE u.handle END AS author_handle,
           CASE WHEN left(a.message, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || a.message ELSE a.message END AS message,
           a.replies_count, a.reposts_count, a.likes_count, a.reply_to_activity_uuid,
           a.expires_at AS expires_at_utc, a.created_at AS created_at_utc,
           (a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS created_at_local
    FROM activities a LEFT JOIN users u ON u.uuid = a.user_uuid
    WHERE a.created_at >= (%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
      AND a.created_at < ((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
    ORDER BY a.created_at, a.uuid
    LIMIT %(max_rows)s
) TO STDOUT WITH (FORMAT csv, HEADER true)
