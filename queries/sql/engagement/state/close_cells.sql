-- Retention cells of the day, ISO week and month ending on a closed local day of a zone's engagement state: its active users per sign-up cohort.
-- class: write
-- With `open` (the last day of a refresh) also the cells of the periods holding
-- day + 1 so far (counts only grow until the period ends and overwrites them).
INSERT INTO public.engagement_cells AS c (tz, unit, period_start, cohort_start, retained)
SELECT %(tz)s, k.unit, k.p, date_trunc(k.unit, e.signup::timestamp)::date, count(*)
FROM (
    SELECT DISTINCT u.unit, date_trunc(u.unit, d.d::timestamp)::date AS p
    FROM (VALUES ('day'), ('week'), ('month')) AS u(unit),
         (VALUES (%(day)s::date), (CASE WHEN %(open)s THEN %(day)s::date + 1 END)) AS d(d)
    WHERE d.d IS NOT NULL
      AND (d.d > %(day)s::date
           OR (date_trunc(u.unit, d.d::timestamp) + ('1 ' || u.unit)::interval)::date - 1 = %(day)s::date)
) AS k
JOIN public.engagement_users e ON e.tz = %(tz)s AND e.last_day >= k.p AND e.last_day <= %(day)s::date
GROUP BY k.unit, k.p, 4
ON CONFLICT (tz, unit, period_start, cohort_start) DO UPDATE SET retained = EXCLUDED.retained
