-- Raw users created in the range (local dates in the report time zone) as CSV with a header row, oldest first, streamed by COPY.
-- reads: users
-- optional: max_rows
-- COPY cannot take server-side parameters: the caller binds them client-side
-- (psycopg's cursor.copy(query, params) quotes them as literals).
COPY (
    SELECT u.uuid, u.display_name, u.handle, u.email, u.cognito_user_id,
           u.created_at AS created_at_utc,
           (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS created_at_local
    FROM users u
    WHERE u.created_at >= (%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
      AND u.created_at < ((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
    ORDER BY u.created_at, u.uuid
    LIMIT %(max_rows)s
) TO STDOUT WITH (FORMAT csv, HEADER true)
