-- Retention cells of the day, ISO week and month ending on a closed local day of a zone's engagement state: its active users per sign-up cohort.
-- class: write
INSERT INTO public.engagement_cells AS c (tz, unit, period_start, cohort_start, retained)
SELECT %(tz)s, k.unit, k.p, date_trunc(k.unit, e.signup::timestamp)::date, count(*)
FROM (
    SELECT u.unit, date_trunc(u.unit, %(day)s::date::timestamp)::date AS p,
           (date_trunc(u.unit, %(day)s::date::timestamp) + ('1 ' || u.unit)::interval)::date - 1 AS p_end
    FROM (VALUES ('day'), ('week'), ('month')) AS u(unit)
) AS k
JOIN public.engagement_users e ON e.tz = %(tz)s AND e.last_day >= k.p AND e.last_day <= %(day)s::date
WHERE k.p_end = %(day)s::date
GROUP BY k.unit, k.p, 4
ON CONFLICT (tz, unit, period_start, cohort_start) DO UPDATE SET retained = EXCLUDED.retained
