-- Raw users created in the range (local dates in the report time zone) as CSV with a header row, oldest first, streamed by COPY.
-- class: read
-- reads: users
-- optional: max_rows
-- COPY cannot take server-side parameters: the caller binds them client-side
-- (psycopg's cursor.copy(query, params) quotes them as literals).
COPY (
    -- Text a spreadsheet would run as a formula (starting with = + - @, tab or CR)
    -- gets a leading quote, as exports.formats.neutralise does for other CSVs.
    SELECT u.uuid,
           CASE WHEN left(u.display_name, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || u.display_name ELSE u.display_name END AS display_name,
           CASE WHEN left(u.handle, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || u.handle ELSE u.handle END AS handle,
           CASE WHEN left(u.email, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || u.email ELSE u.email END AS email,
           CASE WHEN left(u.cognito_user_id, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
                THEN '''' || u.cognito_user_id ELSE u.cognito_user_id END AS cognito_user_id,
           u.created_at AS created_at_utc,
           (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS created_at_local
    FROM users u
    WHERE u.created_at >= (%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
      AND u.created_at < ((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
    ORDER BY u.created_at, u.uuid
    LIMIT %(max_rows)s
) TO STDOUT WITH (FORMAT csv, HEADER true)
